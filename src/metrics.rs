//! Prometheus metrics, served as text at `GET /metrics`. Labels are low-cardinality by
//! construction: versions, known OCPP actions, error codes, command kinds, refusal reasons,
//! writer names; never a charger id or anything else a peer can make up.

use std::fmt;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A histogram family with fixed buckets.
pub type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

fn seconds() -> Histogram {
    // 0.5 ms .. ~8 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

fn sizes() -> Histogram {
    // 1 .. 4096 rows/writes
    Histogram::new(exponential_buckets(1.0, 2.0, 13))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VersionLabels {
    pub version: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    pub action: String,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CommandLabels {
    pub command: &'static str,
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WriterLabels {
    pub writer: &'static str,
}

/// The store's batched writers: how long a batch takes to commit and how big it is.
#[derive(Clone)]
pub struct WriteStats {
    pub duration: Histograms<WriterLabels>,
    pub batch_size: Histograms<WriterLabels>,
}

impl Default for WriteStats {
    fn default() -> Self {
        Self {
            duration: Family::new_with_constructor(seconds),
            batch_size: Family::new_with_constructor(sizes),
        }
    }
}

impl WriteStats {
    /// Records one committed batch of `size` writes that took `took`.
    pub fn observe(&self, writer: &'static str, size: usize, took: std::time::Duration) {
        let labels = WriterLabels { writer };
        self.duration.get_or_create(&labels).observe(took.as_secs_f64());
        self.batch_size.get_or_create(&labels).observe(size as f64);
    }
}

impl fmt::Debug for WriteStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WriteStats")
    }
}

/// Every metric of a node.
pub struct Metrics {
    registry: Registry,
    pub connected: Family<VersionLabels, Gauge>,
    pub messages: Family<ActionLabels, Counter>,
    pub callerrors: Family<CodeLabels, Counter>,
    pub commands: Histograms<CommandLabels>,
    pub handshake_refusals: Family<ReasonLabels, Counter>,
    /// Exchanges the message log dropped (its queue full, or a batch not stored).
    pub message_log_dropped: Counter,
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// The metrics, with the store's write statistics registered alongside.
    pub fn new(writes: &WriteStats) -> Self {
        let mut registry = Registry::with_prefix("voltgate");
        let connected = Family::<VersionLabels, Gauge>::default();
        let messages = Family::<ActionLabels, Counter>::default();
        let callerrors = Family::<CodeLabels, Counter>::default();
        let commands: Histograms<CommandLabels> = Family::new_with_constructor(seconds);
        let handshake_refusals = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "chargers_connected",
            "Charger connections open on this node, by OCPP version",
            connected.clone(),
        );
        registry.register(
            "ocpp_messages",
            "CALLs received from chargers, by action and outcome (ok or callerror)",
            messages.clone(),
        );
        registry.register(
            "ocpp_callerrors_sent",
            "CALLERRORs sent to chargers, by error code",
            callerrors.clone(),
        );
        registry.register(
            "command_duration_seconds",
            "Remote commands from the API, request to the charger's answer, by command and outcome",
            commands.clone(),
        );
        registry.register(
            "handshake_refusals",
            "Charger connections refused before the WebSocket upgrade, by reason",
            handshake_refusals.clone(),
        );
        let message_log_dropped = Counter::default();
        registry.register(
            "message_log_dropped",
            "OCPP exchanges the message inspector did not keep (queue full or database failure)",
            message_log_dropped.clone(),
        );
        registry.register(
            "db_batch_duration_seconds",
            "Time to commit one batch of charger writes, by writer",
            writes.duration.clone(),
        );
        registry.register(
            "db_batch_size",
            "Writes per committed batch, by writer",
            writes.batch_size.clone(),
        );
        Self {
            registry,
            connected,
            messages,
            callerrors,
            commands,
            handshake_refusals,
            message_log_dropped,
        }
    }

    /// The OpenMetrics text exposition (which Prometheus reads).
    pub fn encode(&self) -> Result<String, fmt::Error> {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }

    /// Counts a refused handshake.
    pub fn refused(&self, reason: &'static str) {
        self.handshake_refusals.get_or_create(&ReasonLabels { reason }).inc();
    }
}
