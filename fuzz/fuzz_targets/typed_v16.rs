//! A CALL's payload typed for OCPP 1.6 (rust-ocpp's types through serde), on any frame:
//! it must type or be rejected with a CALLERROR code, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use voltgate::ocpp::{Frame, OcppVersion, Request};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(Frame::Call { action, payload, .. }) = Frame::decode(&text) {
        let _ = Request::parse(OcppVersion::V16, &action, payload);
    }
});
