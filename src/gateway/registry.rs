//! The live-connection registry: which chargers are connected to this node, and the one way
//! the rest of voltgate sends them a CALL and awaits the answer.

use crate::access::{MayCall, MayDisconnect};
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use dashmap::DashMap;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

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
    // Boxed: tokio's channel allocates its slots in blocks of 32 up front, per connection.
    calls: mpsc::Sender<Box<OutboundCall>>,
    /// Cancelled when a newer connection for the same id replaces this one.
    replaced: CancellationToken,
    /// Cancelled when the charger is deleted or otherwise must be cut off.
    removed: CancellationToken,
    boot: BootFlag,
}

/// What this connection's BootNotification was answered, shared with the connection task.
#[derive(Debug, Clone, Default)]
pub(crate) struct BootFlag(Arc<AtomicU8>);

impl BootFlag {
    pub(crate) fn set(&self, accepted: Option<bool>) {
        let v = match accepted {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        self.0.store(v, Ordering::Relaxed);
    }

    fn get(&self) -> Option<bool> {
        match self.0.load(Ordering::Relaxed) {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        }
    }
}

/// Public view of a live connection.
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
    pub calls: mpsc::Receiver<Box<OutboundCall>>,
    pub replaced: CancellationToken,
    pub removed: CancellationToken,
    pub boot: BootFlag,
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
            boot_accepted: h.boot.get(),
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
                    boot_accepted: h.boot.get(),
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
        // Clone the sender so no map guard is held across an await.
        let sender = self
            .connections
            .get(charger_id)
            .map(|h| h.calls.clone())
            .ok_or(CallFailure::Offline)?;
        let (reply, answer) = oneshot::channel();
        let call = Box::new(OutboundCall {
            action: action.to_owned(),
            payload,
            reply,
        });
        sender.try_send(call).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => CallFailure::Busy,
            mpsc::error::TrySendError::Closed(_) => CallFailure::Offline,
        })?;
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
        let (calls_tx, calls) = mpsc::channel(CALL_QUEUE);
        let replaced = CancellationToken::new();
        let removed = CancellationToken::new();
        let boot = BootFlag::default();
        let handle = Handle {
            session,
            version,
            connected_at: Utc::now(),
            calls: calls_tx,
            replaced: replaced.clone(),
            removed: removed.clone(),
            boot: boot.clone(),
        };
        if let Some(previous) = self.connections.insert(charger_id.to_owned(), handle) {
            previous.replaced.cancel();
        }
        self.report(Presence::Up {
            charger_id: charger_id.to_owned(),
            version,
            session,
        });
        Registration {
            session,
            calls,
            replaced,
            removed,
            boot,
        }
    }

    /// Closes the charger's connection, if any (it was deleted).
    pub(crate) fn disconnect(&self, _proof: &impl MayDisconnect, charger_id: &str) {
        if let Some(h) = self.connections.get(charger_id) {
            h.removed.cancel();
        }
    }

    /// Closes connection `session` of the charger because it connected to another node since,
    /// as a newer connection on this node would replace it. A newer session here is left alone.
    pub fn close_moved(&self, charger_id: &str, session: u64) {
        // Out of the map before the close: from now on commands on this node go to the
        // charger's new node, not into a connection that is closing.
        if let Some((_, h)) = self.connections.remove_if(charger_id, |_, h| h.session == session) {
            h.replaced.cancel();
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
