//! The OCPP-J frame decoder on any text a charger could send: decode, and re-encode whatever
//! decodes (including the CALLERROR a bad frame earns).
#![no_main]

use libfuzzer_sys::fuzz_target;
use voltgate::ocpp::{CallRejection, Frame};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Frame::decode(&text) {
        Ok(frame) => {
            let _ = frame.encode();
        }
        Err(err) => {
            let _ = CallRejection::new(err.code, err.description);
        }
    }
});
