//! One task per charger connection: read frames, answer CALLs through the station, write
//! CSMS-initiated CALLs one at a time, keep the connection alive with pings, and close it
//! cleanly on shutdown, replacement, idleness or an oversized frame.

use std::fmt;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::WebSocketStream;

use super::stream::ChargerStream;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;

use super::Gateway;
use super::registry::{BootFlag, CallFailure, OutboundCall, Registration};
use crate::ocpp::{CallRejection, ErrorCode, Frame, FrameError, OcppVersion, Request, UNKNOWN_MESSAGE_ID};
use crate::station::{Session, StationError};

/// How long to wait for the peer's close frame after sending ours.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Why a connection ended, for the disconnect log line.
#[derive(Debug)]
pub(crate) enum Ended {
    PeerClosed(Option<u16>),
    PeerGone,
    Replaced,
    Removed,
    Shutdown,
    IdleTimeout,
    MessageTooBig(String),
    Error(String),
}

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ended::PeerClosed(Some(code)) => write!(f, "closed by charger ({code})"),
            Ended::PeerClosed(None) => f.write_str("closed by charger"),
            Ended::PeerGone => f.write_str("connection lost"),
            Ended::Replaced => f.write_str("replaced by a newer connection"),
            Ended::Removed => f.write_str("charger removed"),
            Ended::Shutdown => f.write_str("server shutdown"),
            Ended::IdleTimeout => f.write_str("idle timeout"),
            Ended::MessageTooBig(e) => write!(f, "message too big: {e}"),
            Ended::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// A CSMS-initiated CALL written and awaiting its answer.
struct InFlight {
    id: String,
    reply: oneshot::Sender<Result<Value, CallFailure>>,
    deadline: Instant,
}

/// The per-connection state machine.
pub(crate) struct Connection<'a> {
    gateway: &'a Gateway,
    ws: WebSocketStream<ChargerStream>,
    session: Session,
    in_flight: Option<InFlight>,
    next_call_id: u64,
    last_heard: Instant,
    /// Published to the registry so commands wait for an accepted boot.
    boot: BootFlag,
}

impl<'a> Connection<'a> {
    pub(crate) fn new(gateway: &'a Gateway, ws: WebSocketStream<ChargerStream>, session: Session) -> Self {
        Self {
            gateway,
            ws,
            session,
            in_flight: None,
            next_call_id: 0,
            last_heard: Instant::now(),
            boot: BootFlag::default(),
        }
    }

    /// Serves the connection until it ends; returns why.
    pub(crate) async fn run(mut self, registration: Registration, shutdown: CancellationToken) -> Ended {
        let Registration {
            mut calls,
            replaced,
            removed,
            boot,
            ..
        } = registration;
        self.boot = boot;
        let config = &self.gateway.config;
        let idle_timeout = Duration::from_secs(config.idle_timeout_s);
        let ping_period = (config.ping_interval_s > 0).then(|| Duration::from_secs(config.ping_interval_s));
        let mut next_ping = ping_period.map(|p| Instant::now() + p);

        let ended = loop {
            let call_deadline = self.in_flight.as_ref().map(|f| f.deadline);
            // Biased: a replacement or shutdown wins over traffic that arrives at the same time.
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break self.close(CloseCode::Away, "server shutting down", Ended::Shutdown).await,
                _ = replaced.cancelled() => break self.close(CloseCode::Policy, "replaced by a newer connection", Ended::Replaced).await,
                _ = removed.cancelled() => break self.close(CloseCode::Policy, "charger removed", Ended::Removed).await,
                frame = self.ws.next() => {
                    self.last_heard = Instant::now();
                    if let Some(ended) = self.on_frame(frame).await {
                        break ended;
                    }
                }
                call = calls.recv(), if self.in_flight.is_none() => {
                    // The registry dropped our sender: a newer connection took over.
                    let Some(call) = call else {
                        break self.close(CloseCode::Policy, "replaced by a newer connection", Ended::Replaced).await;
                    };
                    if let Err(ended) = self.send_call(call).await {
                        break ended;
                    }
                }
                _ = sleep_until(call_deadline.unwrap_or_else(far_future)), if call_deadline.is_some() => {
                    if let Some(f) = self.in_flight.take() {
                        tracing::warn!(charger = %self.session.charger_id, id = %f.id, "CALL timed out");
                        let _ = f.reply.send(Err(CallFailure::Timeout));
                    }
                }
                _ = sleep_until(self.last_heard + idle_timeout) => {
                    break self.close(CloseCode::Away, "idle timeout", Ended::IdleTimeout).await;
                }
                _ = sleep_until(next_ping.unwrap_or_else(far_future)), if next_ping.is_some() => {
                    next_ping = ping_period.map(|p| Instant::now() + p);
                    if let Err(e) = self.ws.send(Message::Ping(Default::default())).await {
                        break Ended::Error(e.to_string());
                    }
                }
            }
        };
        // Callers waiting on an answer learn at once that none is coming.
        if let Some(f) = self.in_flight.take() {
            let _ = f.reply.send(Err(CallFailure::Disconnected));
        }
        self.gateway.station.disconnected(&self.session).await;
        ended
    }

    async fn on_frame(&mut self, frame: Option<Result<Message, WsError>>) -> Option<Ended> {
        let text = match frame {
            None => return Some(Ended::PeerGone),
            Some(Ok(Message::Text(text))) => text.to_string(),
            // OCPP-J uses text frames; a binary one is answered like any other bad input.
            Some(Ok(Message::Binary(bytes))) => String::from_utf8_lossy(&bytes).into_owned(),
            Some(Ok(Message::Close(frame))) => {
                return Some(Ended::PeerClosed(frame.map(|f| f.code.into())));
            }
            Some(Ok(_)) => return None,
            Some(Err(WsError::Capacity(e @ CapacityError::MessageTooLong { .. }))) => {
                tracing::warn!(charger = %self.session.charger_id, error = %e, "frame over the size limit");
                return Some(
                    self.close(CloseCode::Size, "message too big", Ended::MessageTooBig(e.to_string()))
                        .await,
                );
            }
            Some(Err(WsError::ConnectionClosed | WsError::AlreadyClosed)) => {
                return Some(Ended::PeerGone);
            }
            Some(Err(e)) => return Some(Ended::Error(e.to_string())),
        };
        let reply = self.on_text(&text).await?;
        match self.ws.send(Message::Text(reply.into())).await {
            Ok(()) => None,
            Err(e) => Some(Ended::Error(e.to_string())),
        }
    }

    /// Handles one text frame; returns the frame to answer with, if any.
    async fn on_text(&mut self, text: &str) -> Option<String> {
        let version = self.session.version;
        let frame = match Frame::decode(text) {
            Ok(frame) => frame,
            Err(err) => return self.on_bad_frame(err),
        };
        match frame {
            Frame::Call { id, action, payload } => {
                let answer = match Request::parse(version, &action, payload) {
                    Ok(request) => match self.handle(request).await {
                        Ok(response) => response.to_payload().map_err(|e| {
                            tracing::error!(charger = %self.session.charger_id, %action, error = %e, "response did not serialise");
                            CallRejection::new(ErrorCode::InternalError, "internal error")
                        }),
                        Err(err) => Err(self.station_error(&action, err)),
                    },
                    Err(rejection) => {
                        tracing::debug!(charger = %self.session.charger_id, %action, error = %rejection, "CALL rejected");
                        Err(rejection)
                    }
                };
                Some(
                    match answer {
                        Ok(payload) => Frame::CallResult { id, payload },
                        Err(r) => call_error(version, id, r),
                    }
                    .encode(),
                )
            }
            Frame::CallResult { id, payload } => {
                self.resolve(&id, Ok(payload));
                None
            }
            Frame::CallError {
                id,
                code,
                description,
                details,
            } => {
                self.resolve(
                    &id,
                    Err(CallFailure::CallError {
                        code,
                        description,
                        details,
                    }),
                );
                None
            }
        }
    }

    async fn handle(&mut self, request: Request) -> Result<crate::ocpp::Response, StationError> {
        let result = self.gateway.station.handle(&mut self.session, request).await;
        self.boot.set(self.session.boot_accepted);
        result
    }

    fn on_bad_frame(&self, err: FrameError) -> Option<String> {
        tracing::warn!(charger = %self.session.charger_id, code = ?err.code, reason = %err.description, "malformed frame");
        if !err.reply {
            return None;
        }
        let id = err.id.unwrap_or_else(|| UNKNOWN_MESSAGE_ID.to_owned());
        Some(call_error(self.session.version, id, CallRejection::new(err.code, err.description)).encode())
    }

    /// Maps a handler failure to the CALLERROR the charger sees; internals are logged, not sent.
    fn station_error(&self, action: &str, err: StationError) -> CallRejection {
        match err {
            StationError::Unsupported(_) => {
                CallRejection::new(ErrorCode::NotSupported, format!("{action} is not supported"))
            }
            StationError::Store(e) => {
                tracing::error!(charger = %self.session.charger_id, %action, error = %e, "handler failed");
                CallRejection::new(ErrorCode::InternalError, "internal error, please retry")
            }
        }
    }

    /// Hands a CALLRESULT/CALLERROR to the caller waiting for it.
    fn resolve(&mut self, id: &str, result: Result<Value, CallFailure>) {
        match self.in_flight.take() {
            Some(f) if f.id == id => {
                let _ = f.reply.send(result);
            }
            other => {
                self.in_flight = other;
                // OCPP-J: an answer to no outstanding CALL is ignored.
                tracing::warn!(charger = %self.session.charger_id, %id, "answer to an unknown message id dropped");
            }
        }
    }

    async fn send_call(&mut self, call: Box<OutboundCall>) -> Result<(), Ended> {
        if call.reply.is_closed() {
            return Ok(()); // the caller gave up while queued
        }
        self.next_call_id += 1;
        let id = format!("vg{}", self.next_call_id);
        let text = Frame::Call {
            id: id.clone(),
            action: call.action,
            payload: call.payload,
        }
        .encode();
        if let Err(e) = self.ws.send(Message::Text(text.into())).await {
            let _ = call.reply.send(Err(CallFailure::Disconnected));
            return Err(Ended::Error(e.to_string()));
        }
        self.in_flight = Some(InFlight {
            id,
            reply: call.reply,
            deadline: Instant::now() + self.gateway.registry.call_timeout(),
        });
        Ok(())
    }

    /// Sends a close frame and waits briefly for the peer's, so the close is clean.
    async fn close(&mut self, code: CloseCode, reason: &str, ended: Ended) -> Ended {
        // A caller waiting on an answer learns now, not after the close handshake.
        if let Some(f) = self.in_flight.take() {
            let _ = f.reply.send(Err(CallFailure::Disconnected));
        }
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        if self.ws.close(Some(frame)).await.is_ok() {
            let _ = tokio::time::timeout(CLOSE_GRACE, async { while let Some(Ok(_)) = self.ws.next().await {} }).await;
        }
        ended
    }
}

fn call_error(version: OcppVersion, id: String, rejection: CallRejection) -> Frame {
    let details = match rejection.field {
        Some(field) => json!({ "field": field }),
        None => json!({}),
    };
    // 2.0.1 caps errorDescription at 255 characters.
    let mut description = rejection.description;
    if description.len() > 255 {
        let mut cut = 255;
        while !description.is_char_boundary(cut) {
            cut -= 1;
        }
        description.truncate(cut);
    }
    Frame::CallError {
        id,
        code: rejection.code.as_str(version).to_owned(),
        description,
        details,
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365)
}
