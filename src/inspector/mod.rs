//! The message inspector: every OCPP exchange of every charger, kept for support and
//! engineers. The gateway hands each finished exchange (a CALL and its answer, side by side)
//! to [`MessageLog::record`], which never waits: a bounded queue feeds one writer thread that
//! removes secrets ([`redact`]) and stores batches; [`prune`] keeps the log within its
//! retention and per-charger cap. Under overload the queue drops rather than slow a charger,
//! and counts what it dropped.

pub mod redact;

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::values::{FrameKind, MessageDirection};
use prometheus_client::metrics::counter::Counter;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::OcppConfig;
use crate::ocpp::ChargerId;
use crate::store::{NewMessage, Store};

/// Exchanges waiting for the writer at most (a few MiB); more are dropped and counted.
const QUEUE: usize = 131_072;
/// Exchanges stored per batch at most: all that waits. The store packs a batch into a page
/// per charger, so the bigger the batch, the fewer rows under a flood.
const BATCH: usize = QUEUE;
/// What a batch holds room for between floods.
const QUIET_BATCH: usize = 4_096;
/// How long the writer lets a batch fill before storing it (how soon an exchange shows).
const LINGER: Duration = Duration::from_millis(500);
/// How long it lets a batch fill under a flood (the last batch held more than [`FLOOD`]): a
/// charger's exchanges of two seconds share one row instead of a second's, which halves the
/// rows the flood costs. Cut short once half the queue waits.
const FLOOD_LINGER: Duration = Duration::from_secs(2);
/// A batch this large means a flood.
const FLOOD: usize = 16_384;
/// How often a lingering writer looks at the queue.
const LOOK: Duration = Duration::from_millis(100);

/// One exchange as the gateway saw it.
#[derive(Debug)]
pub struct Exchange {
    pub charger_id: ChargerId,
    /// When the first frame was read or written.
    pub at: DateTime<Utc>,
    pub direction: MessageDirection,
    pub action: Option<String>,
    pub message_id: Option<String>,
    /// The first frame as it went over the wire.
    pub request: String,
    pub answer: Option<Answer>,
}

/// The answer to a logged frame.
#[derive(Debug)]
pub struct Answer {
    pub kind: FrameKind,
    /// The answering frame; `None` for a timeout.
    pub text: Option<String>,
    pub at: DateTime<Utc>,
}

impl Answer {
    /// An answer frame read or written now.
    pub fn now(kind: FrameKind, text: String) -> Self {
        Self {
            kind,
            text: Some(text),
            at: Utc::now(),
        }
    }
}

/// Where the gateway puts exchanges; cheap to clone. Disabled with `ocpp.message_log = false`.
#[derive(Debug, Clone)]
pub struct MessageLog {
    queue: Option<mpsc::Sender<Exchange>>,
    dropped: Counter,
}

impl MessageLog {
    /// A log that records nothing.
    pub fn disabled() -> Self {
        Self {
            queue: None,
            dropped: Counter::default(),
        }
    }

    /// Starts the writer on a thread of its own (when the config enables the log);
    /// drops are counted in `dropped`.
    pub fn start(store: Store, config: &OcppConfig, dropped: Counter) -> Self {
        if !config.message_log {
            return Self::disabled();
        }
        let (queue, rx) = mpsc::channel(QUEUE);
        // A thread of its own: as a task it waited behind every ready charger connection at
        // each of its awaits, and under a storm stored a sixth of what came (the rest dropped).
        let counter = dropped.clone();
        let spawned = crate::store::on_own_thread("voltgate-message-log", write(store, rx, counter));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "message log writer not started");
            return Self::disabled();
        }
        Self {
            queue: Some(queue),
            dropped,
        }
    }

    /// Whether exchanges are kept (the gateway builds none otherwise).
    pub fn enabled(&self) -> bool {
        self.queue.is_some()
    }

    /// Queues an exchange for the writer, without waiting.
    pub fn record(&self, exchange: Exchange) {
        if let Some(queue) = &self.queue
            && queue.try_send(exchange).is_err()
        {
            self.dropped.inc();
        }
    }
}

/// The writer: batches from the queue, secrets removed, stored; ends when the gateway is gone.
async fn write(store: Store, mut rx: mpsc::Receiver<Exchange>, dropped: Counter) {
    // Kept across a flood's batches (each fresh allocation of tens of MiB cost page faults in
    // every batch) and given back once it is over: an idle writer should not hold them.
    let mut batch = Vec::with_capacity(QUIET_BATCH);
    let mut rows = Vec::with_capacity(QUIET_BATCH);
    let mut flood = false;
    loop {
        let received = if flood {
            // A flood's buffers go back once the flood stops, even if nothing follows it.
            match tokio::time::timeout(FLOOD_LINGER, rx.recv_many(&mut batch, BATCH)).await {
                Ok(received) => received,
                Err(_) => {
                    flood = false;
                    batch.shrink_to(QUIET_BATCH);
                    rows.shrink_to(QUIET_BATCH);
                    continue;
                }
            }
        } else {
            rx.recv_many(&mut batch, BATCH).await
        };
        if received == 0 {
            return;
        }
        if batch.len() < BATCH {
            let until = Instant::now() + if flood { FLOOD_LINGER } else { LINGER };
            while Instant::now() < until && rx.len() < QUEUE / 2 {
                tokio::time::sleep(LOOK.min(until.saturating_duration_since(Instant::now()))).await;
            }
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(exchange) => batch.push(exchange),
                    Err(_) => break,
                }
            }
        }
        let n = batch.len() as u64;
        flood = batch.len() > FLOOD;
        redact_into(&store, batch.drain(..), &mut rows).await;
        if let Err(e) = store.record_messages(&rows).await {
            tracing::warn!(error = %e, exchanges = n, "message log batch not stored");
            dropped.inc_by(n);
        }
        rows.clear();
        if !flood {
            batch.shrink_to(QUIET_BATCH);
            rows.shrink_to(QUIET_BATCH);
        }
    }
}

/// Appends the rows for a batch to `rows`, secrets replaced. A SetVariables also hides what
/// the charger's device model marks write-only, looked up once per charger and batch.
async fn redact_into(store: &Store, batch: impl Iterator<Item = Exchange>, rows: &mut Vec<NewMessage>) {
    let mut write_only: HashMap<ChargerId, HashSet<(String, String)>> = HashMap::new();
    for e in batch {
        if e.action.as_deref() == Some("SetVariables") && !write_only.contains_key(&e.charger_id) {
            let found = store
                .write_only_variables(e.charger_id.as_str())
                .await
                .unwrap_or_else(|err| {
                    tracing::warn!(error = %err, "write-only variables not read; names alone decide");
                    Vec::new()
                });
            write_only.insert(e.charger_id.clone(), found.into_iter().collect());
        }
        let hidden = write_only.get(&e.charger_id);
        let is_write_only = |c: &str, v: &str| hidden.is_some_and(|set| set.contains(&(c.to_owned(), v.to_owned())));
        let action = e.action.as_deref();
        let request_size = size(e.request.len());
        let (response_type, response_size, response, responded_at) = match e.answer {
            Some(a) => (
                Some(a.kind),
                a.text.as_ref().map(|t| size(t.len())),
                a.text.map(|t| redact::redact_owned(t, action, &is_write_only)),
                Some(a.at),
            ),
            None => (None, None, None, None),
        };
        rows.push(NewMessage {
            request: redact::redact_owned(e.request, action, &is_write_only),
            charger_id: e.charger_id.into(),
            at: e.at,
            direction: e.direction,
            message_id: e.message_id,
            request_size,
            response_type,
            response,
            response_size,
            responded_at,
            action: e.action,
        });
    }
}

fn size(bytes: usize) -> i32 {
    i32::try_from(bytes).unwrap_or(i32::MAX)
}

/// Deletes exchanges past `ocpp.message_log_retention_h` and beyond the per-charger cap.
pub async fn prune(store: &Store, config: &OcppConfig) -> crate::store::Result<u64> {
    let cutoff = (config.message_log_retention_h > 0).then(|| {
        let hours = i64::try_from(config.message_log_retention_h).unwrap_or(i64::MAX / 3_600_000);
        Utc::now() - chrono::Duration::hours(hours.min(24 * 365 * 100))
    });
    store
        .prune_messages(cutoff, config.message_log_max_per_charger.max(1))
        .await
}
