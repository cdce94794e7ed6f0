//! A simulated charge point for either OCPP version.
//!
//! ```text
//! cargo run --example charger -- --version 1.6 --id CP-1 --password secret --url ws://127.0.0.1:9000/ocpp
//! ```
//!
//! It boots, sends a StatusNotification per connector, heartbeats at the interval the CSMS
//! gives, and answers Reset, UnlockConnector and UpdateFirmware (reporting firmware progress
//! with FirmwareStatusNotification). Anything else it is asked gets NotImplemented.

use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

#[derive(Debug, Parser)]
#[command(about = "A simulated OCPP 1.6 / 2.0.1 charge point")]
struct Args {
    /// OCPP version: 1.6 or 2.0.1.
    #[arg(long, default_value = "1.6")]
    version: String,
    /// Charge point identity.
    #[arg(long, default_value = "CP-1")]
    id: String,
    /// Basic-auth password (security profile 1).
    #[arg(long)]
    password: Option<String>,
    /// Endpoint without the id.
    #[arg(long, default_value = "ws://127.0.0.1:9000/ocpp")]
    url: String,
    /// Number of connectors to report.
    #[arg(long, default_value_t = 2)]
    connectors: u32,
    /// Stop after this many seconds (default: run until killed).
    #[arg(long)]
    duration_s: Option<u64>,
}

/// The charger's side of the conversation.
struct Charger {
    v16: bool,
    next_id: u64,
    firmware_request: Option<i64>,
}

impl Charger {
    fn call(&mut self, action: &str, payload: Value) -> Message {
        self.next_id += 1;
        Message::Text(
            json!([2, format!("c{}", self.next_id), action, payload])
                .to_string()
                .into(),
        )
    }

    fn boot(&mut self) -> Message {
        let payload = if self.v16 {
            json!({"chargePointVendor": "voltgate", "chargePointModel": "SimCharger", "chargePointSerialNumber": "SIM-0001", "firmwareVersion": "1.0.0"})
        } else {
            json!({"reason": "PowerUp", "chargingStation": {"vendorName": "voltgate", "model": "SimCharger", "serialNumber": "SIM-0001", "firmwareVersion": "1.0.0"}})
        };
        self.call("BootNotification", payload)
    }

    fn status(&mut self, connector: u32, status: &str) -> Message {
        let now = chrono::Utc::now().to_rfc3339();
        let payload = if self.v16 {
            json!({"connectorId": connector, "errorCode": "NoError", "status": status, "timestamp": now})
        } else {
            let status = if status == "Available" {
                "Available"
            } else {
                "Unavailable"
            };
            json!({"timestamp": now, "connectorStatus": status, "evseId": connector, "connectorId": 1})
        };
        self.call("StatusNotification", payload)
    }

    fn firmware_status(&mut self, status: &str) -> Message {
        let mut payload = json!({"status": status});
        if let (false, Some(id)) = (self.v16, self.firmware_request) {
            payload["requestId"] = json!(id);
        }
        self.call("FirmwareStatusNotification", payload)
    }

    /// Answers a CSMS CALL; returns the answer and any follow-up messages to send.
    fn answer(&mut self, id: &str, action: &str, payload: &Value) -> (Message, Vec<Message>) {
        let result = |p: Value| Message::Text(json!([3, id, p]).to_string().into());
        match action {
            "Reset" => {
                println!("reset requested: {payload}");
                (result(json!({"status": "Accepted"})), vec![])
            }
            "UnlockConnector" => {
                println!("unlock requested: {payload}");
                (result(json!({"status": "Unlocked"})), vec![])
            }
            "UpdateFirmware" => {
                println!("firmware update requested: {payload}");
                self.firmware_request = payload["requestId"].as_i64();
                let answer = if self.v16 {
                    json!({})
                } else {
                    json!({"status": "Accepted"})
                };
                // These four statuses are spelled alike in both versions.
                let steps = ["Downloading", "Downloaded", "Installing", "Installed"];
                let follow_up = steps.iter().map(|s| self.firmware_status(s)).collect();
                (result(answer), follow_up)
            }
            other => {
                let error = json!([
                    4,
                    id,
                    "NotImplemented",
                    format!("{other} is not implemented by the simulator"),
                    {}
                ]);
                (Message::Text(error.to_string().into()), vec![])
            }
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let v16 = match args.version.as_str() {
        "1.6" => true,
        "2.0.1" => false,
        other => bail!("--version must be 1.6 or 2.0.1, not {other}"),
    };
    let mut request = format!("{}/{}", args.url.trim_end_matches('/'), args.id).into_client_request()?;
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(&format!("ocpp{}", args.version))?,
    );
    if let Some(password) = &args.password {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", args.id));
        headers.insert("Authorization", HeaderValue::from_str(&format!("Basic {token}"))?);
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await.context("connecting")?;
    println!("connected as {} (OCPP {})", args.id, args.version);

    let mut charger = Charger {
        v16,
        next_id: 0,
        firmware_request: None,
    };
    ws.send(charger.boot()).await?;
    let mut accepted = false;
    let mut heartbeat = tokio::time::interval(Duration::from_secs(300));
    heartbeat.reset();
    let deadline = tokio::time::sleep(Duration::from_secs(args.duration_s.unwrap_or(u64::MAX / 4)));
    tokio::pin!(deadline);

    loop {
        tokio::select! {
            _ = &mut deadline => break,
            // Until accepted, the interval is the wait before booting again.
            _ = heartbeat.tick() => {
                let msg = if accepted { charger.call("Heartbeat", json!({})) } else { charger.boot() };
                ws.send(msg).await?;
            }
            frame = ws.next() => {
                let Some(frame) = frame else { break };
                let text = match frame? {
                    Message::Text(t) => t.to_string(),
                    Message::Close(f) => { println!("closed by the CSMS: {f:?}"); break }
                    _ => continue,
                };
                let msg: Value = serde_json::from_str(&text).context("CSMS sent invalid JSON")?;
                match msg[0].as_u64() {
                    Some(2) => {
                        let (answer, follow_up) = charger.answer(msg[1].as_str().unwrap_or("-1"), msg[2].as_str().unwrap_or(""), &msg[3]);
                        ws.send(answer).await?;
                        for m in follow_up {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                            ws.send(m).await?;
                        }
                    }
                    Some(3) if msg[2]["interval"].is_u64() => {
                        let status = msg[2]["status"].as_str().unwrap_or("?");
                        let interval = msg[2]["interval"].as_u64().unwrap_or(300).max(1);
                        println!("boot answered: {status}, heartbeat every {interval} s");
                        heartbeat = tokio::time::interval(Duration::from_secs(interval));
                        heartbeat.reset();
                        accepted = status == "Accepted";
                        if accepted {
                            for c in 1..=args.connectors {
                                ws.send(charger.status(c, "Available")).await?;
                            }
                        }
                    }
                    Some(3) => {}
                    Some(4) => println!("CSMS answered with an error: {text}"),
                    _ => println!("unexpected frame: {text}"),
                }
            }
        }
    }
    let _ = ws.close(None).await;
    Ok(())
}
