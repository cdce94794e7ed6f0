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

use tokio::sync::mpsc;

use crate::ca::ChargerCa;

use crate::config::{OcppConfig, UnknownChargers};
use crate::crypto::PasswordHasher;
use crate::live::Live;
use crate::ocpp::{ChargerId, OcppVersion, Request, Response, v16, v201};
use crate::store::{self, FaultChange, MeterWriter, NewEvent, Store};

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
    /// Each message's handling is boxed on its own: a connection then holds, while it waits,
    /// the state of the handler it runs rather than room for the largest of them all (5 KiB a
    /// connection, the largest single share of a storm's memory in a heap profile; a boot's
    /// now takes about half of that, a heartbeat's far less; BENCHMARKS.md, issue 21).
    pub async fn handle(&self, session: &mut Session, request: Request) -> Result<Response, StationError> {
        match request {
            Request::V16(req) => self.handle_v16(session, req).await.map(Response::V16),
            Request::V201(req) => self.handle_v201(session, req).await.map(Response::V201),
        }
    }

    async fn handle_v16(&self, session: &mut Session, request: v16::Request) -> Result<v16::Response, StationError> {
        use v16::{Request as Q, Response as A};
        Ok(match request {
            Q::BootNotification(r) => A::BootNotification(Box::pin(boot::v16(self, session, r)).await?),
            Q::Heartbeat(r) => A::Heartbeat(Box::pin(heartbeat::v16(self, session, r)).await?),
            Q::StatusNotification(r) => A::StatusNotification(Box::pin(status::v16(self, session, r)).await?),
            Q::FirmwareStatusNotification(r) => {
                A::FirmwareStatusNotification(Box::pin(firmware::firmware_v16(self, session, r)).await?)
            }
            Q::DiagnosticsStatusNotification(r) => {
                A::DiagnosticsStatusNotification(Box::pin(firmware::diagnostics_v16(self, session, r)).await?)
            }
            Q::Authorize(r) => A::Authorize(Box::pin(charging::authorize_v16(self, session, r)).await?),
            Q::StartTransaction(r) => A::StartTransaction(Box::pin(charging::start_v16(self, session, r)).await?),
            Q::StopTransaction(r) => A::StopTransaction(Box::pin(charging::stop_v16(self, session, r)).await?),
            Q::MeterValues(r) => A::MeterValues(Box::pin(charging::meter_values_v16(self, session, r)).await?),
            Q::DataTransfer(r) => A::DataTransfer(Box::pin(data_transfer::v16(self, session, r)).await?),
            Q::SecurityEventNotification(r) => {
                A::SecurityEventNotification(Box::pin(security::event_v16(self, session, r)).await?)
            }
            Q::SignCertificate(r) => A::SignCertificate(Box::pin(security::sign_v16(self, session, r)).await?),
            Q::SignedFirmwareStatusNotification(r) => {
                A::SignedFirmwareStatusNotification(Box::pin(firmware::signed_firmware_v16(self, session, r)).await?)
            }
            Q::LogStatusNotification(r) => {
                A::LogStatusNotification(Box::pin(firmware::log_v16(self, session, r)).await?)
            }
        })
    }

    async fn handle_v201(&self, session: &mut Session, request: v201::Request) -> Result<v201::Response, StationError> {
        use v201::{Request as Q, Response as A};
        Ok(match request {
            Q::BootNotification(r) => A::BootNotification(Box::pin(boot::v201(self, session, r)).await?),
            Q::Heartbeat(r) => A::Heartbeat(Box::pin(heartbeat::v201(self, session, r)).await?),
            Q::StatusNotification(r) => A::StatusNotification(Box::pin(status::v201(self, session, r)).await?),
            Q::FirmwareStatusNotification(r) => {
                A::FirmwareStatusNotification(Box::pin(firmware::firmware_v201(self, session, r)).await?)
            }
            Q::LogStatusNotification(r) => {
                A::LogStatusNotification(Box::pin(firmware::log_v201(self, session, r)).await?)
            }
            Q::Authorize(r) => A::Authorize(Box::pin(charging::authorize_v201(self, session, r)).await?),
            Q::TransactionEvent(r) => {
                A::TransactionEvent(Box::pin(charging::transaction_event_v201(self, session, r)).await?)
            }
            Q::MeterValues(r) => A::MeterValues(Box::pin(charging::meter_values_v201(self, session, r)).await?),
            Q::DataTransfer(r) => A::DataTransfer(Box::pin(data_transfer::v201(self, session, r)).await?),
            Q::NotifyEvent(r) => A::NotifyEvent(Box::pin(notify_event::v201(self, session, r)).await?),
            Q::SecurityEventNotification(r) => {
                A::SecurityEventNotification(Box::pin(security::event_v201(self, session, r)).await?)
            }
            Q::SignCertificate(r) => A::SignCertificate(Box::pin(security::sign_v201(self, session, r)).await?),
            Q::Get15118EVCertificate(r) => {
                A::Get15118EVCertificate(Box::pin(security::ev_certificate_v201(self, session, r)).await?)
            }
            Q::GetCertificateStatus(r) => {
                A::GetCertificateStatus(Box::pin(security::certificate_status_v201(self, session, r)).await?)
            }
            Q::PublishFirmwareStatusNotification(r) => {
                A::PublishFirmwareStatusNotification(Box::pin(firmware::publish_v201(self, session, r)).await?)
            }
            Q::NotifyChargingLimit(r) => {
                A::NotifyChargingLimit(Box::pin(smart_charging::limit_v201(self, session, r)).await?)
            }
            Q::ClearedChargingLimit(r) => {
                A::ClearedChargingLimit(Box::pin(smart_charging::cleared_v201(self, session, r)).await?)
            }
            Q::NotifyEVChargingNeeds(r) => {
                A::NotifyEVChargingNeeds(Box::pin(smart_charging::needs_v201(self, session, r)).await?)
            }
            Q::NotifyEVChargingSchedule(r) => {
                A::NotifyEVChargingSchedule(Box::pin(smart_charging::schedule_v201(self, session, r)).await?)
            }
            Q::ReportChargingProfiles(r) => {
                A::ReportChargingProfiles(Box::pin(smart_charging::profiles_v201(self, session, r)).await?)
            }
            Q::NotifyReport(r) => A::NotifyReport(Box::pin(reports::report_v201(self, session, r)).await?),
            Q::NotifyMonitoringReport(r) => {
                A::NotifyMonitoringReport(Box::pin(reports::monitoring_v201(self, session, r)).await?)
            }
            Q::NotifyCustomerInformation(r) => {
                A::NotifyCustomerInformation(Box::pin(reports::customer_v201(self, session, r)).await?)
            }
            Q::NotifyDisplayMessages(r) => {
                A::NotifyDisplayMessages(Box::pin(reports::display_v201(self, session, r)).await?)
            }
            Q::ReservationStatusUpdate(r) => {
                A::ReservationStatusUpdate(Box::pin(reports::reservation_v201(self, session, r)).await?)
            }
        })
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
