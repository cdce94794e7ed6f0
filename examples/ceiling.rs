//! The ceiling for `voltgate-bench` (a bench helper, not shipped): the least an OCPP-J endpoint
//! can do, on the same tokio-tungstenite with the same per-connection buffers as voltgate. It
//! accepts any charge point, picks the first offered subprotocol and answers every CALL with an
//! empty CALLRESULT; no authentication, no database, no validation.
//!
//! ```text
//! cargo run --release --example ceiling -- --listen 127.0.0.1:9100
//! ```

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value = "127.0.0.1:9100")]
    listen: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let listener = TcpListener::bind(&args.listen).await?;
    eprintln!("ceiling listening on {}", listener.local_addr()?);
    // The same buffer settings voltgate uses by default, so memory compares like for like.
    let config = WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(256 * 1024)
        .max_message_size(Some(128 * 1024));
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            // The signature is tungstenite's callback type.
            #[allow(clippy::result_large_err)]
            let pick = |req: &Request, mut resp: Response| -> Result<Response, ErrorResponse> {
                let offered = req
                    .headers()
                    .get("Sec-WebSocket-Protocol")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if let Some(first) = offered.split(',').map(str::trim).find(|p| !p.is_empty()) {
                    if let Ok(v) = first.parse() {
                        resp.headers_mut().insert("Sec-WebSocket-Protocol", v);
                    }
                }
                Ok(resp)
            };
            let Ok(mut ws) = tokio_tungstenite::accept_hdr_async_with_config(stream, pick, Some(config)).await else {
                return;
            };
            while let Some(Ok(msg)) = ws.next().await {
                let Message::Text(text) = msg else { continue };
                let Ok(frame) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if frame[0] == 2 {
                    let answer = json!([3, frame[1], {}]).to_string();
                    if ws.send(Message::Text(answer.into())).await.is_err() {
                        break;
                    }
                }
            }
        });
    }
}
