//! What the CSMS does with charger-initiated messages. Handlers take typed requests of either
//! version and return typed responses; they know nothing of WebSocket frames. Each message has
//! its own module that translates both versions into one version-neutral operation.

mod admission;
mod boot;
mod bounds;
mod charging;
mod data_transfer;
mod device;
mod firmware;
mod heartbeat;
mod notify_event;
mod reports;
mod security;
mod smart_charging;
mod status;

pub use admission::{Admission, Credentials, Refusal, Transport};
pub use security::SigningJob;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use crate::ca::ChargerCa;

use crate::config::{OcppConfig, UnknownChargers};
use crate::crypto::PasswordHasher;
use crate::live::Live;
use crate::ocpp::{ChargerId, OcppVersion, Request, Response, v16, v201};
use crate::store::{self, FaultChange, MeterWriter, NewEvent, Store};

/// A charger message's handling under way, on the heap.
pub type Handling<'a> = BoxFuture<'a, Result<Response, StationError>>;

/// A handler's future, boxed, its answer wrapped by `wrap` into its version's response.
fn boxed<'a, T, R: Into<Response>>(
    handler: impl Future<Output = Result<T, StationError>> + Send + 'a,
    wrap: impl FnOnce(T) -> R + Send + 'a,
) -> Handling<'a> {
    Box::pin(async move { handler.await.map(|answer| wrap(answer).into()) })
}

/// Why a handler could not answer; the gateway maps each to a CALLERROR.
#[derive(Debug, thiserror::Error)]
pub enum StationError {
    /// A value no real charger can report (see [`bounds`]); nothing of the message is stored.
    #[error("{field}: {reason}")]
    Constraint { field: String, reason: String },
    /// Storing what the charger said failed; the charger should retry.
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// The largest `detail` a timeline row keeps (serialised bytes); a bigger payload is stored
/// as its size only, so one chatty charger cannot bloat the table.
const MAX_DETAIL_BYTES: usize = 8 * 1024;

/// Accepted CSRs waiting to be signed at most; past it a SignCertificate is `Rejected` (the
/// charger asks again later).
const SIGNING_QUEUE: usize = 1024;

/// What a message said, for a timeline row's `detail`.
fn detail(value: &impl serde::Serialize) -> Option<serde_json::Value> {
    let mut value = serde_json::to_value(value).ok()?;
    // A charger's private key never reaches the timeline, whatever message carried it.
    crate::ocpp::hide_private_keys(&mut value);
    let bytes = value.to_string().len();
    Some(if bytes > MAX_DETAIL_BYTES {
        serde_json::json!({ "truncated": true, "bytes": bytes })
    } else {
        value
    })
}

/// Per-connection state the handlers keep between messages.
#[derive(Debug)]
pub struct Session {
    /// The charge point identity from the URL.
    pub charger_id: ChargerId,
    /// The negotiated OCPP version.
    pub version: OcppVersion,
    /// What this connection's last BootNotification was answered: `Some(true)` Accepted,
    /// `Some(false)` Pending, `None` no boot yet on this connection.
    pub boot_accepted: Option<bool>,
    /// When `last_seen_at` was last written, to coalesce heartbeat writes.
    last_seen_written: Option<Instant>,
    /// The transaction (its row id) a MeterValues lands on, as this connection last looked it
    /// up, so meter values during a charging session cost no read. Only the charger's own
    /// transaction messages, on this connection, start or end its transactions; each clears
    /// this.
    transactions: std::collections::HashMap<TransactionKey, Option<i32>>,
}

/// How a MeterValues names its transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum TransactionKey {
    /// 2.0.1: none; the one open on this EVSE.
    OpenOn(i32),
    /// 1.6: the transaction id the charger was given.
    Ocpp(String),
}

impl Session {
    /// State for a freshly connected charger.
    pub fn new(charger_id: ChargerId, version: OcppVersion) -> Self {
        Self {
            charger_id,
            version,
            boot_accepted: None,
            last_seen_written: None,
            transactions: Default::default(),
        }
    }
}

/// The charger-facing side of the CSMS.
#[derive(Debug)]
pub struct Station {
    store: Store,
    heartbeat_interval_s: u32,
    security_profile: u8,
    unknown_chargers: UnknownChargers,
    verified: admission::VerifiedPasswords,
    hasher: PasswordHasher,
    /// Batched meter-value writes.
    meters: MeterWriter,
    /// Smoothed time to commit a BootNotification (µs); past the threshold, boots get Pending.
    boot_commit_us: std::sync::atomic::AtomicU64,
    boot_overload_us: u64,
    max_clock_skew_s: u64,
    /// voltgate's CA for chargers, when `[ca]` is set.
    ca: Option<Arc<ChargerCa>>,
    /// Accepted CSRs, for the commands layer to sign (`take_signing_jobs`).
    signing: mpsc::Sender<security::SigningJob>,
    signing_jobs: std::sync::Mutex<Option<mpsc::Receiver<security::SigningJob>>>,
    /// Told of every charger whose state a message changed.
    live: Live,
}

impl Station {
    /// A station over `store`, configured by `[ocpp]`.
    pub fn new(store: Store, config: &OcppConfig, hasher: PasswordHasher, ca: Option<Arc<ChargerCa>>) -> Self {
        let (signing, signing_jobs) = mpsc::channel(SIGNING_QUEUE);
        Self {
            ca,
            signing,
            signing_jobs: std::sync::Mutex::new(Some(signing_jobs)),
            meters: MeterWriter::start(store.clone()),
            store,
            heartbeat_interval_s: config.heartbeat_interval_s,
            security_profile: config.security_profile,
            unknown_chargers: config.unknown_chargers,
            verified: Default::default(),
            hasher,
            boot_commit_us: Default::default(),
            boot_overload_us: config.boot_overload_ms.saturating_mul(1000),
            max_clock_skew_s: config.max_clock_skew_s,
            live: Live::default(),
        }
    }

    /// Where this station tells of chargers whose state changed.
    pub fn live(&self) -> &Live {
        &self.live
    }

    /// The CSRs this station accepts, once: whoever signs them takes the receiving end.
    pub fn take_signing_jobs(&self) -> Option<mpsc::Receiver<security::SigningJob>> {
        self.signing_jobs.lock().ok()?.take()
    }

    /// Answers one charger-initiated request.
    ///
    /// Each message's handling is boxed on its own, sized for its handler alone: a connection
    /// holds only the box while it waits, and a boot or a heartbeat does not pay for room the
    /// largest handler needs (5 KiB a connection when it was laid out inline, the largest
    /// single share of a storm's memory in a heap profile; BENCHMARKS.md, issue 21). The
    /// dispatch is not itself async, so the request is moved straight into its handler's box
    /// rather than held again by each layer of dispatch.
    pub fn handle<'a>(&'a self, session: &'a mut Session, request: Request) -> Handling<'a> {
        match request {
            Request::V16(request) => self.handle_v16(session, request),
            Request::V201(request) => self.handle_v201(session, request),
        }
    }

    fn handle_v16<'a>(&'a self, session: &'a mut Session, request: v16::Request) -> Handling<'a> {
        use v16::{Request as Q, Response as A};
        match request {
            Q::BootNotification(r) => boxed(boot::v16(self, session, r), A::BootNotification),
            Q::Heartbeat(r) => boxed(heartbeat::v16(self, session, r), A::Heartbeat),
            Q::StatusNotification(r) => boxed(status::v16(self, session, r), A::StatusNotification),
            Q::FirmwareStatusNotification(r) => {
                boxed(firmware::firmware_v16(self, session, r), A::FirmwareStatusNotification)
            }
            Q::DiagnosticsStatusNotification(r) => boxed(
                firmware::diagnostics_v16(self, session, r),
                A::DiagnosticsStatusNotification,
            ),
            Q::Authorize(r) => boxed(charging::authorize_v16(self, session, r), A::Authorize),
            Q::StartTransaction(r) => boxed(charging::start_v16(self, session, r), A::StartTransaction),
            Q::StopTransaction(r) => boxed(charging::stop_v16(self, session, r), A::StopTransaction),
            Q::MeterValues(r) => boxed(charging::meter_values_v16(self, session, r), A::MeterValues),
            Q::DataTransfer(r) => boxed(data_transfer::v16(self, session, r), A::DataTransfer),
            Q::SecurityEventNotification(r) => {
                boxed(security::event_v16(self, session, r), A::SecurityEventNotification)
            }
            Q::SignCertificate(r) => boxed(security::sign_v16(self, session, r), A::SignCertificate),
            Q::SignedFirmwareStatusNotification(r) => boxed(
                firmware::signed_firmware_v16(self, session, r),
                A::SignedFirmwareStatusNotification,
            ),
            Q::LogStatusNotification(r) => boxed(firmware::log_v16(self, session, r), A::LogStatusNotification),
        }
    }

    fn handle_v201<'a>(&'a self, session: &'a mut Session, request: v201::Request) -> Handling<'a> {
        use v201::{Request as Q, Response as A};
        match request {
            Q::BootNotification(r) => boxed(boot::v201(self, session, r), A::BootNotification),
            Q::Heartbeat(r) => boxed(heartbeat::v201(self, session, r), A::Heartbeat),
            Q::StatusNotification(r) => boxed(status::v201(self, session, r), A::StatusNotification),
            Q::FirmwareStatusNotification(r) => {
                boxed(firmware::firmware_v201(self, session, r), A::FirmwareStatusNotification)
            }
            Q::LogStatusNotification(r) => boxed(firmware::log_v201(self, session, r), A::LogStatusNotification),
            Q::Authorize(r) => boxed(charging::authorize_v201(self, session, r), A::Authorize),
            Q::TransactionEvent(r) => boxed(charging::transaction_event_v201(self, session, r), A::TransactionEvent),
            Q::MeterValues(r) => boxed(charging::meter_values_v201(self, session, r), A::MeterValues),
            Q::DataTransfer(r) => boxed(data_transfer::v201(self, session, r), A::DataTransfer),
            Q::NotifyEvent(r) => boxed(notify_event::v201(self, session, r), A::NotifyEvent),
            Q::SecurityEventNotification(r) => {
                boxed(security::event_v201(self, session, r), A::SecurityEventNotification)
            }
            Q::SignCertificate(r) => boxed(security::sign_v201(self, session, r), A::SignCertificate),
            Q::Get15118EVCertificate(r) => boxed(
                security::ev_certificate_v201(self, session, r),
                A::Get15118EVCertificate,
            ),
            Q::GetCertificateStatus(r) => boxed(
                security::certificate_status_v201(self, session, r),
                A::GetCertificateStatus,
            ),
            Q::PublishFirmwareStatusNotification(r) => boxed(
                firmware::publish_v201(self, session, r),
                A::PublishFirmwareStatusNotification,
            ),
            Q::NotifyChargingLimit(r) => boxed(smart_charging::limit_v201(self, session, r), A::NotifyChargingLimit),
            Q::ClearedChargingLimit(r) => {
                boxed(smart_charging::cleared_v201(self, session, r), A::ClearedChargingLimit)
            }
            Q::NotifyEVChargingNeeds(r) => {
                boxed(smart_charging::needs_v201(self, session, r), A::NotifyEVChargingNeeds)
            }
            Q::NotifyEVChargingSchedule(r) => boxed(
                smart_charging::schedule_v201(self, session, r),
                A::NotifyEVChargingSchedule,
            ),
            Q::ReportChargingProfiles(r) => boxed(
                smart_charging::profiles_v201(self, session, r),
                A::ReportChargingProfiles,
            ),
            Q::NotifyReport(r) => boxed(reports::report_v201(self, session, r), A::NotifyReport),
            Q::NotifyMonitoringReport(r) => {
                boxed(reports::monitoring_v201(self, session, r), A::NotifyMonitoringReport)
            }
            Q::NotifyCustomerInformation(r) => {
                boxed(reports::customer_v201(self, session, r), A::NotifyCustomerInformation)
            }
            Q::NotifyDisplayMessages(r) => boxed(reports::display_v201(self, session, r), A::NotifyDisplayMessages),
            Q::ReservationStatusUpdate(r) => {
                boxed(reports::reservation_v201(self, session, r), A::ReservationStatusUpdate)
            }
        }
    }

    /// The clock against which this message's times are judged.
    fn clock(&self) -> bounds::Clock {
        bounds::Clock::now(self.max_clock_skew_s)
    }

    /// Records that the charger was heard from, at most once per heartbeat interval.
    async fn seen(&self, session: &mut Session) -> Result<(), StationError> {
        let interval = Duration::from_secs(self.heartbeat_interval_s.into());
        if session.last_seen_written.is_some_and(|at| at.elapsed() < interval) {
            return Ok(());
        }
        self.store
            .touch_charger(&session.charger_id, chrono::Utc::now())
            .await?;
        session.last_seen_written = Some(Instant::now());
        Ok(())
    }

    /// Puts what a message said on the charger's timeline and applies what it did to faults.
    async fn record(
        &self,
        session: &mut Session,
        events: Vec<NewEvent>,
        faults: Vec<FaultChange>,
    ) -> Result<(), StationError> {
        self.store.record_events(&session.charger_id, events, faults).await?;
        self.live.changed(&session.charger_id);
        self.seen(session).await
    }

    /// Called once when the connection ends, so `last_seen_at` is the disconnect time.
    pub async fn disconnected(&self, session: &Session) {
        if let Err(err) = self.store.touch_charger(&session.charger_id, chrono::Utc::now()).await {
            tracing::warn!(charger = %session.charger_id, error = %err, "could not record disconnect time");
        }
    }
}
