//! Chargers changing as it happens (connected, gone, a boot, a status, a fault or a firmware
//! step recorded), for whoever shows them live: the console's `/live` stream. A bounded
//! broadcast of charger ids: a listener that falls behind misses ids and is told it lagged,
//! and a charger never waits for a listener. The gateway and the station publish; nothing
//! here knows who listens or what they may see (the listener asks the gate).

use std::sync::Arc;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Ids kept for a slow listener before it lags.
const BACKLOG: usize = 4096;

/// A charger that changed, and whether it is connected to this node (a cluster relays those
/// to the other nodes, and tells this one of theirs).
#[derive(Debug, Clone)]
pub struct Change {
    pub charger_id: Arc<str>,
    pub here: bool,
}

/// The node's stream of changed chargers; cheap to clone.
#[derive(Debug, Clone)]
pub struct Live {
    tx: broadcast::Sender<Change>,
    /// Cancelled when the node stops, so listeners end their streams.
    closed: CancellationToken,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(BACKLOG).0,
            closed: CancellationToken::new(),
        }
    }
}

impl Live {
    /// Tells the listeners, if any, that `charger_id`, connected here, changed.
    pub fn changed(&self, charger_id: &str) {
        self.send(charger_id, true);
    }

    /// Tells the listeners that `charger_id`, connected to another node, changed.
    pub fn changed_elsewhere(&self, charger_id: &str) {
        self.send(charger_id, false);
    }

    fn send(&self, charger_id: &str, here: bool) {
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(Change {
                charger_id: Arc::from(charger_id),
                here,
            });
        }
    }

    /// Every change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.tx.subscribe()
    }

    /// How many listen now.
    pub fn listeners(&self) -> usize {
        self.tx.receiver_count()
    }

    /// The node is stopping: listeners should end.
    pub fn close(&self) {
        self.closed.cancel();
    }

    /// Resolves once the node is stopping.
    pub fn closed(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.closed.clone().cancelled_owned()
    }
}
