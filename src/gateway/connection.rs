//! One task per charger connection: read frames, answer CALLs through the station, write
//! CSMS-initiated CALLs one at a time, keep the connection alive with pings, and close it
//! cleanly on shutdown, replacement, idleness or an oversized frame.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::time::{Instant, sleep_until};
use tokio_tungstenite::WebSocketStream;

use super::stream::ChargerStream;
use crate::metrics::{ActionLabels, CodeLabels};
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;

use super::Gateway;
use super::registry::{CallFailure, Ending, Line, OutboundCall};
use crate::inspector::{Answer, Exchange, MessageLog};
use crate::ocpp::{CallRejection, ErrorCode, Frame, FrameError, OcppVersion, Request, UNKNOWN_MESSAGE_ID};
use crate::station::{Session, StationError};
use chrono::{DateTime, Utc};
use entity::values::{FrameKind, MessageDirection};

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
    /// It stopped reading: a write did not drain within `ocpp.write_timeout_s`.
    SlowReader,
    /// It kept sending over `ocpp.rate_limit_*` after being told to slow down.
    Flooding,
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
            Ended::SlowReader => f.write_str("stopped reading (write timed out)"),
            Ended::Flooding => f.write_str("kept flooding after rate-limit errors"),
            Ended::Error(e) => write!(f, "error: {e}"),
        }
    }
}

/// A CSMS-initiated CALL written and awaiting its answer.
struct InFlight {
    id: String,
    reply: oneshot::Sender<Result<Value, CallFailure>>,
    deadline: Instant,
    /// The CALL for the message log, completed by its answer (or its absence); boxed, as
    /// every connection's task has room for an `InFlight`.
    logged: Option<Box<Exchange>>,
}

impl InFlight {
    /// Tells the caller how the CALL ended and logs the exchange with `answer`.
    fn finish(mut self, log: &MessageLog, result: Result<Value, CallFailure>, answer: Option<Answer>) {
        let _ = self.reply.send(result);
        if let Some(mut exchange) = self.logged.take() {
            exchange.answer = Some(answer.unwrap_or_else(|| Answer {
                kind: FrameKind::Timeout,
                text: None,
                at: Utc::now(),
            }));
            log.record(*exchange);
        }
    }
}

/// The per-connection state machine.
pub(crate) struct Connection<'a> {
    gateway: &'a Gateway,
    ws: WebSocketStream<ChargerStream>,
    session: Session,
    in_flight: Option<InFlight>,
    next_call_id: u64,
    last_heard: Instant,
    /// Shared with the registry: queued CALLs, its ending, the boot's outcome.
    line: Arc<Line>,
    limit: RateLimit,
    clock: Clock,
}

/// What woke a connection's loop.
enum Wake {
    Shutdown,
    Ended(Ending),
    Frame(Option<Result<Message, WsError>>),
    /// A CALL taken from the queue.
    Call(Box<OutboundCall>),
    /// A CALL may be queued.
    Queued,
    Timer,
}

/// A connection's own deadlines besides a CALL's: when it counts as idle, when it pings next.
struct Clock {
    idle_timeout: Duration,
    ping_period: Option<Duration>,
    next_ping: Option<Instant>,
}

impl Clock {
    fn new(idle_timeout_s: u64, ping_interval_s: u64) -> Self {
        let ping_period = (ping_interval_s > 0).then(|| Duration::from_secs(ping_interval_s));
        Self {
            idle_timeout: Duration::from_secs(idle_timeout_s),
            ping_period,
            next_ping: ping_period.map(|p| Instant::now() + p),
        }
    }

    /// The earliest deadline, given when the charger was last heard and a CALL's deadline.
    fn due(&self, last_heard: Instant, call: Option<Instant>) -> Instant {
        [self.next_ping, call]
            .into_iter()
            .flatten()
            .fold(last_heard + self.idle_timeout, Instant::min)
    }

    /// Whether a ping is due at `now`; if so the next one is counted from now.
    fn ping_due(&mut self, now: Instant) -> bool {
        if self.next_ping.is_none_or(|at| at > now) {
            return false;
        }
        self.next_ping = self.ping_period.map(|p| now + p);
        true
    }
}

/// A token bucket over the charger's frames: `rate` per second on average, `burst` at once.
/// Frames over it are refused; a charger that keeps going for another burst is cut off.
struct RateLimit {
    rate: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
    refused_in_row: u32,
}

impl RateLimit {
    fn new(per_s: u32, burst: u32) -> Self {
        Self {
            rate: f64::from(per_s),
            burst: f64::from(burst),
            tokens: f64::from(burst),
            at: Instant::now(),
            refused_in_row: 0,
        }
    }

    /// Takes a token; false when over the limit (never, with the limit off).
    fn take(&mut self) -> bool {
        if self.rate == 0.0 {
            return true;
        }
        let now = Instant::now();
        self.tokens = (self.tokens + now.duration_since(self.at).as_secs_f64() * self.rate).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused_in_row = 0;
            true
        } else {
            self.refused_in_row += 1;
            false
        }
    }

    /// The charger ignored a whole burst's worth of refusals.
    fn persists(&self) -> bool {
        f64::from(self.refused_in_row) > self.burst
    }
}

impl<'a> Connection<'a> {
    /// A connection on the heap: its task's future holds it by pointer, as an async fn keeps
    /// its arguments twice (the argument and the local it is moved to; rust-lang/rust#62958).
    pub(crate) fn new(
        gateway: &'a Gateway,
        ws: WebSocketStream<ChargerStream>,
        session: Session,
        line: Arc<Line>,
    ) -> Box<Self> {
        Box::new(Self {
            gateway,
            ws,
            session,
            in_flight: None,
            next_call_id: 0,
            last_heard: Instant::now(),
            line,
            limit: RateLimit::new(gateway.config.rate_limit_per_s, gateway.config.rate_limit_burst),
            clock: Clock::new(gateway.config.idle_timeout_s, gateway.config.ping_interval_s),
        })
    }

    /// The charger's session: its id and version.
    pub(crate) fn session(&self) -> &Session {
        &self.session
    }

    /// Serves the connection until it ends; returns why.
    pub(crate) async fn run(mut self: Box<Self>, shutdown: CancellationToken) -> Ended {
        let line = Arc::clone(&self.line);
        // One timer for a CALL's timeout, the idle timeout and the next ping, armed for the
        // earliest and re-armed when it fires or something earlier comes due. A timer per
        // deadline made afresh at every wake-up cost three timer-wheel entries per message.
        let timer = sleep_until(self.clock.due(self.last_heard, self.call_deadline()));
        tokio::pin!(timer);
        let ended = loop {
            // A queued CALL goes out as soon as none is in flight.
            let queued = self.in_flight.is_none().then(|| line.next_call()).flatten();
            // Biased: a replacement or shutdown wins over traffic that arrives at the same time.
            let wake = match queued {
                Some(call) => Wake::Call(call),
                None => tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => Wake::Shutdown,
                    ending = line.ended() => Wake::Ended(ending),
                    frame = self.ws.next() => Wake::Frame(frame),
                    () = line.queued(), if self.in_flight.is_none() => Wake::Queued,
                    () = &mut timer => Wake::Timer,
                },
            };
            let fired = matches!(wake, Wake::Timer);
            // Handled once the select is over, so the task's future holds either the select's
            // futures or a handler's, not both.
            if let Err(ended) = self.on_wake(wake).await {
                break ended;
            }
            // The idle deadline moves with every frame; the timer learns it when it fires.
            let due = self.clock.due(self.last_heard, self.call_deadline());
            if fired || due < timer.deadline() {
                timer.as_mut().reset(due);
            }
        };
        // Callers waiting on an answer, or queued behind it, learn at once that none is coming.
        line.close();
        if let Some(f) = self.in_flight.take() {
            f.finish(&self.gateway.log, Err(CallFailure::Disconnected), None);
        }
        Box::pin(self.gateway.station.disconnected(&self.session)).await;
        ended
    }

    fn call_deadline(&self) -> Option<Instant> {
        self.in_flight.as_ref().map(|f| f.deadline)
    }

    async fn on_wake(&mut self, wake: Wake) -> Result<(), Ended> {
        match wake {
            Wake::Shutdown => Err(self
                .close(CloseCode::Away, "server shutting down", Ended::Shutdown)
                .await),
            Wake::Ended(Ending::Replaced) => Err(self
                .close(CloseCode::Policy, "replaced by a newer connection", Ended::Replaced)
                .await),
            Wake::Ended(Ending::Removed) => Err(self.close(CloseCode::Policy, "charger removed", Ended::Removed).await),
            Wake::Frame(frame) => {
                self.last_heard = Instant::now();
                self.on_frame(frame).await.map_or(Ok(()), Err)
            }
            Wake::Call(call) => self.send_call(call).await,
            Wake::Queued => Ok(()),
            Wake::Timer => self.on_timer().await,
        }
    }

    /// Whatever has come due: a CALL's timeout, the idle timeout, a ping.
    async fn on_timer(&mut self) -> Result<(), Ended> {
        let now = Instant::now();
        if self.call_deadline().is_some_and(|at| at <= now)
            && let Some(f) = self.in_flight.take()
        {
            tracing::warn!(charger = %self.session.charger_id, id = %f.id, "CALL timed out");
            f.finish(&self.gateway.log, Err(CallFailure::Timeout), None);
        }
        if self.last_heard + self.clock.idle_timeout <= now {
            return Err(self.close(CloseCode::Away, "idle timeout", Ended::IdleTimeout).await);
        }
        if self.clock.ping_due(now) {
            self.write(Message::Ping(Default::default())).await?;
        }
        Ok(())
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
            // Not UTF-8: RFC 6455 §8.1 says fail the connection, and tungstenite's reader is
            // done after it. The charger still learns why (a CALLERROR, its id unreadable)
            // before the 1007 close, and reconnects.
            Some(Err(WsError::Utf8(e))) => {
                tracing::warn!(charger = %self.session.charger_id, error = %e, "text frame not UTF-8");
                let rejection = CallRejection::new(ErrorCode::RpcFrameworkError, "text frame is not valid UTF-8");
                let reply = self.call_error(UNKNOWN_MESSAGE_ID.to_owned(), rejection).encode();
                if let Err(ended) = self.write(Message::Text(reply.into())).await {
                    return Some(ended);
                }
                return Some(
                    self.close(
                        CloseCode::Invalid,
                        "invalid UTF-8",
                        Ended::Error("invalid UTF-8".into()),
                    )
                    .await,
                );
            }
            Some(Err(e)) => return Some(Ended::Error(e.to_string())),
        };
        let reply = if self.limit.take() {
            self.on_text(text).await?
        } else {
            if self.limit.persists() {
                tracing::warn!(charger = %self.session.charger_id, "closing: kept flooding after rate-limit errors");
                return Some(
                    self.close(CloseCode::Policy, "rate limit exceeded", Ended::Flooding)
                        .await,
                );
            }
            self.rate_limited(text)?
        };
        self.write(Message::Text(reply.into())).await.err()
    }

    /// The answer to a frame over the rate limit: a CALLERROR for a CALL, nothing otherwise.
    fn rate_limited(&self, text: String) -> Option<String> {
        let at = Utc::now();
        let Ok(Frame::Call { id, action, .. }) = Frame::decode(&text) else {
            return None;
        };
        tracing::debug!(charger = %self.session.charger_id, "frame over the rate limit");
        let rejection = CallRejection::new(ErrorCode::GenericError, "rate limit exceeded; slow down");
        let reply = self.call_error(id.clone(), rejection).encode();
        self.log_heard(at, Some(action), Some(id), text, Some((FrameKind::CallError, &reply)));
        Some(reply)
    }

    /// Logs a frame the charger sent and what it was answered, if anything.
    fn log_heard(
        &self,
        at: DateTime<Utc>,
        action: Option<String>,
        message_id: Option<String>,
        text: String,
        reply: Option<(FrameKind, &String)>,
    ) {
        if !self.gateway.log.enabled() {
            return;
        }
        self.gateway.log.record(Exchange {
            charger_id: self.session.charger_id.clone(),
            at,
            direction: MessageDirection::In,
            action,
            message_id,
            request: text,
            answer: reply.map(|(kind, text)| Answer::now(kind, text.clone())),
        });
    }

    /// Sends a frame, bounded in time: a peer that stops reading would otherwise hold this
    /// task (and its buffers) forever, since TCP never gives up on a zero window.
    async fn write(&mut self, message: Message) -> Result<(), Ended> {
        let timeout = Duration::from_secs(self.gateway.config.write_timeout_s);
        match tokio::time::timeout(timeout, self.ws.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Ended::Error(e.to_string())),
            Err(_) => {
                tracing::warn!(charger = %self.session.charger_id, "closing: the charger stopped reading");
                Err(Ended::SlowReader)
            }
        }
    }

    /// Handles one text frame; returns the frame to answer with, if any.
    async fn on_text(&mut self, text: String) -> Option<String> {
        let version = self.session.version;
        let at = Utc::now();
        let frame = match Frame::decode(&text) {
            Ok(frame) => frame,
            Err(err) => {
                let id = err.id.clone();
                let reply = self.on_bad_frame(err);
                self.log_heard(at, None, id, text, reply.as_ref().map(|r| (FrameKind::CallError, r)));
                return reply;
            }
        };
        match frame {
            Frame::Call { id, action, payload } => {
                // Not boxed: the station boxes each message's handling, sized for its handler,
                // so what waits here is a pointer and the action.
                let (answer, known) = self.answer(version, &action, payload).await;
                // Only actions the parser knows become labels: a peer cannot mint new series.
                let (label, unknown) = if known {
                    (action, None)
                } else {
                    ("unknown".into(), Some(action))
                };
                let labels = ActionLabels {
                    action: label,
                    outcome: if answer.is_ok() { "ok" } else { "callerror" },
                };
                self.gateway.metrics.messages.get_or_create(&labels).inc();
                let logged = self
                    .gateway
                    .log
                    .enabled()
                    .then(|| (unknown.unwrap_or(labels.action), id.clone()));
                let (kind, reply) = match answer {
                    Ok(payload) => (FrameKind::CallResult, Frame::CallResult { id, payload }),
                    Err(r) => (FrameKind::CallError, self.call_error(id, r)),
                };
                let reply = reply.encode();
                if let Some((action, id)) = logged {
                    self.log_heard(at, Some(action), Some(id), text, Some((kind, &reply)));
                }
                Some(reply)
            }
            Frame::CallResult { id, payload } => {
                self.resolve(&id, Ok(payload), FrameKind::CallResult, text);
                None
            }
            Frame::CallError {
                id,
                code,
                description,
                details,
            } => {
                let failure = CallFailure::CallError {
                    code,
                    description,
                    details,
                };
                self.resolve(&id, Err(failure), FrameKind::CallError, text);
                None
            }
        }
    }

    /// The answer's payload to a CALL, or why it is refused; and whether the action is one
    /// the parser knows.
    async fn answer(
        &mut self,
        version: OcppVersion,
        action: &str,
        payload: Value,
    ) -> (Result<Value, CallRejection>, bool) {
        let request = match Request::parse(version, action, payload) {
            Ok(request) => request,
            Err(rejection) => {
                tracing::debug!(charger = %self.session.charger_id, %action, error = %rejection, "CALL rejected");
                let known = rejection.code != ErrorCode::NotImplemented;
                return (Err(rejection), known);
            }
        };
        let handled = self.gateway.station.handle(&mut self.session, request).await;
        self.line.set_boot(self.session.boot_accepted);
        let answer = match handled {
            Ok(response) => response.to_payload().map_err(|e| {
                tracing::error!(charger = %self.session.charger_id, %action, error = %e, "response did not serialise");
                CallRejection::new(ErrorCode::InternalError, "internal error")
            }),
            Err(err) => Err(self.station_error(action, err)),
        };
        (answer, true)
    }

    fn on_bad_frame(&self, err: FrameError) -> Option<String> {
        tracing::warn!(charger = %self.session.charger_id, code = ?err.code, reason = %err.description, "malformed frame");
        if !err.reply {
            return None;
        }
        let id = err.id.unwrap_or_else(|| UNKNOWN_MESSAGE_ID.to_owned());
        Some(
            self.call_error(id, CallRejection::new(err.code, err.description))
                .encode(),
        )
    }

    /// A CALLERROR frame in this connection's version, counted.
    fn call_error(&self, id: String, rejection: CallRejection) -> Frame {
        let code = CodeLabels {
            code: format!("{:?}", rejection.code),
        };
        self.gateway.metrics.callerrors.get_or_create(&code).inc();
        call_error(self.session.version, id, rejection)
    }

    /// Maps a handler failure to the CALLERROR the charger sees; internals are logged, not sent.
    fn station_error(&self, action: &str, err: StationError) -> CallRejection {
        match err {
            StationError::Constraint { field, reason } => {
                tracing::warn!(charger = %self.session.charger_id, %action, %field, %reason, "implausible value refused");
                CallRejection {
                    code: ErrorCode::PropertyConstraintViolation,
                    description: format!("{field}: {reason}"),
                    field: Some(field),
                }
            }
            StationError::Store(e) => {
                tracing::error!(charger = %self.session.charger_id, %action, error = %e, "handler failed");
                CallRejection::new(ErrorCode::InternalError, "internal error, please retry")
            }
        }
    }

    /// Hands a CALLRESULT/CALLERROR to the caller waiting for it; `text` is the frame, for
    /// the message log.
    fn resolve(&mut self, id: &str, result: Result<Value, CallFailure>, kind: FrameKind, text: String) {
        match self.in_flight.take() {
            Some(f) if f.id == id => {
                let answer = f.logged.is_some().then(|| Answer::now(kind, text));
                f.finish(&self.gateway.log, result, answer);
            }
            other => {
                self.in_flight = other;
                // OCPP-J: an answer to no outstanding CALL is ignored (and logged as it came).
                tracing::warn!(charger = %self.session.charger_id, %id, "answer to an unknown message id dropped");
                self.log_heard(Utc::now(), None, Some(id.to_owned()), text, None);
            }
        }
    }

    async fn send_call(&mut self, call: Box<OutboundCall>) -> Result<(), Ended> {
        if call.reply.is_closed() {
            return Ok(()); // the caller gave up while queued
        }
        self.next_call_id += 1;
        let id = format!("vg{}", self.next_call_id);
        let at = Utc::now();
        let action = call.action;
        let text = Frame::Call {
            id: id.clone(),
            action: action.clone(),
            payload: call.payload,
        }
        .encode();
        let logged = self.gateway.log.enabled().then(|| {
            Box::new(Exchange {
                charger_id: self.session.charger_id.clone(),
                at,
                direction: MessageDirection::Out,
                action: Some(action),
                message_id: Some(id.clone()),
                request: text.clone(),
                answer: None,
            })
        });
        let in_flight = InFlight {
            id,
            reply: call.reply,
            deadline: Instant::now() + self.gateway.registry.call_timeout(),
            logged,
        };
        if let Err(ended) = self.write(Message::Text(text.into())).await {
            in_flight.finish(&self.gateway.log, Err(CallFailure::Disconnected), None);
            return Err(ended);
        }
        self.in_flight = Some(in_flight);
        Ok(())
    }

    /// Sends a close frame and waits briefly for the peer's, so the close is clean.
    /// Boxed: it runs once per connection, and unboxed its two timed waits would be laid out
    /// in every connection's task.
    fn close(&mut self, code: CloseCode, reason: &'static str, ended: Ended) -> BoxFuture<'_, Ended> {
        Box::pin(async move {
            // A caller waiting on an answer learns now, not after the close handshake.
            if let Some(f) = self.in_flight.take() {
                f.finish(&self.gateway.log, Err(CallFailure::Disconnected), None);
            }
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            // Bounded like every write: a peer that stopped reading does not take the close frame.
            if let Ok(Ok(())) = tokio::time::timeout(CLOSE_GRACE, self.ws.close(Some(frame))).await {
                let _ =
                    tokio::time::timeout(CLOSE_GRACE, async { while let Some(Ok(_)) = self.ws.next().await {} }).await;
            }
            ended
        })
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
