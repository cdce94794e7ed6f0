//! The live-connection registry: which chargers are connected to this node, and the one way
//! the rest of voltgate sends them a CALL and awaits the answer.

use crate::access::{MayCall, MayDisconnect};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use dashmap::DashMap;
use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::live::Live;
use crate::ocpp::OcppVersion;

/// Outbound CALLs a connection buffers while one is in flight (OCPP allows one at a time).
const CALL_QUEUE: usize = 16;

/// Why a CSMS-initiated CALL produced no CALLRESULT. Serialisable: a cluster relays it
/// between nodes.
#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[serde(tag = "failure", rename_all = "snake_case")]
pub enum CallFailure {
    #[error("charger is not connected")]
    Offline,
    #[error("charger did not answer in time")]
    Timeout,
    #[error("connection closed before the charger answered")]
    Disconnected,
    #[error("too many commands queued for this charger")]
    Busy,
    #[error("charger answered {code}: {description}")]
    CallError {
        code: String,
        description: String,
        details: Value,
    },
}

/// A CALL waiting to be written by the connection task.
#[derive(Debug)]
pub(crate) struct OutboundCall {
    pub action: String,
    pub payload: Value,
    pub reply: oneshot::Sender<Result<Value, CallFailure>>,
}

/// What the registry knows about one live connection.
#[derive(Debug, Clone)]
struct Handle {
    session: u64,
    version: OcppVersion,
    connected_at: DateTime<Utc>,
    line: Arc<Line>,
}

/// What a connection and the registry share: the CALLs queued for the charger, why the
/// registry ended the connection, whether its boot was accepted. One small allocation per
/// connection: a tokio channel and two cancellation tokens took about a kilobyte each, for
/// chargers most of which never get a command.
#[derive(Debug, Default)]
pub(crate) struct Line {
    queue: Mutex<Queue>,
    /// Wakes the connection for a queued CALL (a permit waits if it is busy).
    queued: Notify,
    /// Wakes the connection when the registry ends it; `why` says why.
    ending: Notify,
    why: AtomicU8,
    boot: AtomicU8,
}

#[derive(Debug, Default)]
struct Queue {
    calls: VecDeque<Box<OutboundCall>>,
    /// The connection is gone: nothing more is queued.
    closed: bool,
}

/// Why the registry ended a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// A newer connection of the same charger took over (here or on another node).
    Replaced,
    /// The charger was deleted.
    Removed,
}

impl Line {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        // Never held across an await or a panic-prone call; a poisoned lock still holds a
        // consistent queue.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a CALL for the connection; `Busy` when [`CALL_QUEUE`] wait already.
    fn push(&self, call: Box<OutboundCall>) -> Result<(), CallFailure> {
        {
            let mut queue = self.queue();
            if queue.closed {
                return Err(CallFailure::Offline);
            }
            if queue.calls.len() >= CALL_QUEUE {
                return Err(CallFailure::Busy);
            }
            queue.calls.push_back(call);
        }
        self.queued.notify_one();
        Ok(())
    }

    /// The oldest queued CALL, if any.
    pub(crate) fn next_call(&self) -> Option<Box<OutboundCall>> {
        self.queue().calls.pop_front()
    }

    /// Resolves when a CALL may be waiting.
    pub(crate) async fn queued(&self) {
        self.queued.notified().await;
    }

    /// Refuses further CALLs and drops the queued ones: their callers learn the connection
    /// is gone.
    pub(crate) fn close(&self) {
        let dropped = {
            let mut queue = self.queue();
            queue.closed = true;
            std::mem::take(&mut queue.calls)
        };
        drop(dropped);
    }

    fn end(&self, why: Ending) {
        self.why.store(why as u8, Ordering::Relaxed);
        self.ending.notify_one();
    }

    /// Resolves when the registry ends the connection, with why.
    pub(crate) async fn ended(&self) -> Ending {
        self.ending.notified().await;
        if self.why.load(Ordering::Relaxed) == Ending::Removed as u8 {
            Ending::Removed
        } else {
            Ending::Replaced
        }
    }

    /// Publishes whether the charger's boot was accepted, so commands wait for it.
    pub(crate) fn set_boot(&self, accepted: Option<bool>) {
        let v = match accepted {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        self.boot.store(v, Ordering::Relaxed);
    }

    fn boot(&self) -> Option<bool> {
        match self.boot.load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionInfo {
    pub version: OcppVersion,
    pub connected_at: DateTime<Utc>,
    /// The answer to this connection's BootNotification; `None` before any.
    pub boot_accepted: Option<bool>,
}

/// A charger arriving on or leaving this node, for the cluster to claim or release.
#[derive(Debug)]
pub enum Presence {
    Up {
        charger_id: String,
        version: OcppVersion,
        session: u64,
    },
    Down {
        charger_id: String,
        session: u64,
    },
}

/// What a connection task receives when it registers.
pub(crate) struct Registration {
    pub session: u64,
    pub line: Arc<Line>,
}

/// Live connections by charge point id; cheap to clone.
#[derive(Debug, Clone)]
pub struct Registry {
    connections: Arc<DashMap<String, Handle>>,
    next_session: Arc<AtomicU64>,
    call_timeout: Duration,
    presence: Arc<OnceLock<mpsc::UnboundedSender<Presence>>>,
    live: Live,
}

impl Registry {
    /// An empty registry whose calls wait `call_timeout` for an answer, telling `live` of
    /// every charger arriving or leaving.
    pub fn new(call_timeout: Duration, live: Live) -> Self {
        Self {
            connections: Arc::default(),
            next_session: Arc::default(),
            call_timeout,
            presence: Arc::default(),
            live,
        }
    }

    /// From now on, every charger arriving or leaving is reported on the returned channel;
    /// `None` if someone already listens.
    pub fn presence(&self) -> Option<mpsc::UnboundedReceiver<Presence>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.presence.set(tx).ok()?;
        Some(rx)
    }

    fn report(&self, event: Presence) {
        match &event {
            Presence::Up { charger_id, .. } | Presence::Down { charger_id, .. } => self.live.changed(charger_id),
        }
        if let Some(tx) = self.presence.get() {
            let _ = tx.send(event);
        }
    }

    /// Whether the charger is connected to this node, and since when.
    pub fn connection(&self, charger_id: &str) -> Option<ConnectionInfo> {
        self.connections.get(charger_id).map(|h| ConnectionInfo {
            version: h.version,
            connected_at: h.connected_at,
            boot_accepted: h.line.boot(),
        })
    }

    /// Every charger connected to this node, with its connection.
    pub fn connected(&self) -> Vec<(String, ConnectionInfo)> {
        self.connections
            .iter()
            .map(|h| {
                let info = ConnectionInfo {
                    version: h.version,
                    connected_at: h.connected_at,
                    boot_accepted: h.line.boot(),
                };
                (h.key().clone(), info)
            })
            .collect()
    }

    /// Whether the charger is connected to this node.
    pub fn is_online(&self, charger_id: &str) -> bool {
        self.connections.contains_key(charger_id)
    }

    /// Number of live connections.
    pub fn len(&self) -> usize {
        self.connections.len()
    }

    /// True when no charger is connected.
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// Sends a CALL to a connected charger and waits for its CALLRESULT payload; only with a
    /// proof of the gate.
    pub(crate) async fn call(
        &self,
        _proof: &impl MayCall,
        charger_id: &str,
        action: &str,
        payload: Value,
    ) -> Result<Value, CallFailure> {
        // Clone the line so no map guard is held across an await.
        let line = self
            .connections
            .get(charger_id)
            .map(|h| Arc::clone(&h.line))
            .ok_or(CallFailure::Offline)?;
        let (reply, answer) = oneshot::channel();
        line.push(Box::new(OutboundCall {
            action: action.to_owned(),
            payload,
            reply,
        }))?;
        match tokio::time::timeout(self.call_timeout, answer).await {
            Err(_) => Err(CallFailure::Timeout),
            Ok(Err(_)) => Err(CallFailure::Disconnected),
            Ok(Ok(result)) => result,
        }
    }

    /// How long a call waits for its answer.
    pub fn call_timeout(&self) -> Duration {
        self.call_timeout
    }

    /// Registers a new connection, telling an older one for the same id to close.
    pub(crate) fn register(&self, charger_id: &str, version: OcppVersion) -> Registration {
        let session = self.next_session.fetch_add(1, Ordering::Relaxed);
        let line = Arc::new(Line::default());
        let handle = Handle {
            session,
            version,
            connected_at: Utc::now(),
            line: Arc::clone(&line),
        };
        if let Some(previous) = self.connections.insert(charger_id.to_owned(), handle) {
            previous.line.end(Ending::Replaced);
        }
        self.report(Presence::Up {
            charger_id: charger_id.to_owned(),
            version,
            session,
        });
        Registration { session, line }
    }

    /// Closes the charger's connection, if any (it was deleted).
    pub(crate) fn disconnect(&self, _proof: &impl MayDisconnect, charger_id: &str) {
        if let Some(h) = self.connections.get(charger_id) {
            h.line.end(Ending::Removed);
        }
    }

    /// Closes connection `session` of the charger because it connected to another node since,
    /// as a newer connection on this node would replace it. A newer session here is left alone.
    pub fn close_moved(&self, charger_id: &str, session: u64) {
        // Out of the map before the close: from now on commands on this node go to the
        // charger's new node, not into a connection that is closing.
        if let Some((_, h)) = self.connections.remove_if(charger_id, |_, h| h.session == session) {
            h.line.end(Ending::Replaced);
            self.report(Presence::Down {
                charger_id: charger_id.to_owned(),
                session,
            });
        }
    }

    /// Removes a connection, unless a newer one for the same id has taken its place.
    pub(crate) fn unregister(&self, charger_id: &str, session: u64) {
        if self
            .connections
            .remove_if(charger_id, |_, h| h.session == session)
            .is_some()
        {
            self.report(Presence::Down {
                charger_id: charger_id.to_owned(),
                session,
            });
        }
    }
}
