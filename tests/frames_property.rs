//! Property: whatever text a charger sends, voltgate answers with a CALLERROR, a CALLRESULT
//! (the text happened to be a valid CALL) or nothing, never crashes, and the same connection
//! then serves the next valid CALL. Over a real socket to the real server; proptest shrinks
//! any failure to a minimal frame.

mod common;

use std::net::TcpStream;
use std::sync::{Mutex, OnceLock};

use common::{TestServer, boot_payload};
use proptest::prelude::*;
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

const PW: &str = "charger-password-1";

struct Fixture {
    _runtime: tokio::runtime::Runtime,
    _server: TestServer,
    base: String,
    charger: Mutex<Option<WebSocket<TcpStream>>>,
}

/// One server for every case (a runtime of its own; the property runs synchronously).
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = runtime.block_on(async {
            let t = TestServer::start_with(|c| c.ocpp.rate_limit_per_s = 0).await;
            t.register("CP-PROP", PW).await;
            t
        });
        Fixture {
            base: server.ocpp_base(),
            _runtime: runtime,
            _server: server,
            charger: Mutex::new(None),
        }
    })
}

fn connect(base: &str) -> WebSocket<TcpStream> {
    let url = format!("{base}/CP-PROP");
    let addr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .expect("host")
        .to_owned();
    let stream = TcpStream::connect(addr).expect("tcp");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    let request = common::upgrade_request(&url, "ocpp1.6", Some(("CP-PROP", PW)));
    let (mut ws, _) = tungstenite::client(request, stream).expect("upgrade");
    ws.send(Message::text(
        json!([2, "boot", "BootNotification", boot_payload("1.6")]).to_string(),
    ))
    .expect("boot");
    next_text(&mut ws);
    ws
}

fn next_text(ws: &mut WebSocket<TcpStream>) -> Value {
    loop {
        match ws.read().expect("a frame from voltgate") {
            Message::Text(t) => return serde_json::from_str(t.as_str()).expect("voltgate sends JSON"),
            Message::Close(frame) => panic!("connection closed: {frame:?}"),
            _ => continue,
        }
    }
}

/// Text that looks like OCPP often enough to get past the first checks, and noise.
fn frames() -> impl Strategy<Value = String> {
    let action = prop_oneof![
        Just("BootNotification".to_owned()),
        Just("Heartbeat".to_owned()),
        Just("StatusNotification".to_owned()),
        Just("Authorize".to_owned()),
        Just("StartTransaction".to_owned()),
        Just("StopTransaction".to_owned()),
        Just("MeterValues".to_owned()),
        Just("DataTransfer".to_owned()),
        "[A-Za-z]{0,12}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::from),
    ];
    let value = leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    });
    prop_oneof![
        any::<String>(),
        (0u8..6, ".{0,10}", action, value.clone())
            .prop_map(|(t, id, action, payload)| json!([t, id, action, payload]).to_string()),
        prop::collection::vec(value, 0..6).prop_map(|v| Value::Array(v).to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_gets_a_callerror_or_nothing_and_the_next_call_is_served(text in frames()) {
        let f = fixture();
        let mut slot = f.charger.lock().unwrap_or_else(|e| e.into_inner());
        let ws = slot.get_or_insert_with(|| connect(&f.base));
        ws.send(Message::text(text.clone())).expect("send");
        ws.send(Message::text(json!([2, "next", "Heartbeat", {}]).to_string())).expect("send");
        loop {
            let frame = next_text(ws);
            if frame[1] == json!("next") {
                prop_assert_eq!(frame[0].clone(), json!(3), "the next CALL is served: {}", frame);
                break;
            }
            // An answer to the text itself: a CALLERROR, or a result if it was a valid CALL.
            prop_assert!(frame[0] == json!(4) || frame[0] == json!(3), "answer to {:?}: {}", text, frame);
        }
    }
}
