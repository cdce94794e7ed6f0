//! Remote actions on chargers: a version-neutral [`Command`] goes through the gate, gets an
//! audit row (`pending`), is translated to the charger's own OCPP version, sent through the
//! gateway registry and awaited; the audit row then records what the charger answered.
//!
//! The API never builds OCPP payloads and never touches a connection: it calls [`execute`].

mod translate;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

pub use translate::Prepared;

use crate::access::{CommandProof, Permission, Principal, cap};
use crate::cluster::Location;
use crate::gateway::CallFailure;
use crate::metrics::CommandLabels;
use crate::services::{self, Target};
use crate::state::AppState;
use crate::store::{ACCEPTED, AuditEntry, EventKind};

/// `POST /chargers/{id}/reset`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    /// `soft` (2.0.1: OnIdle) or `hard` (2.0.1: Immediate).
    #[serde(rename = "type")]
    pub kind: ResetKind,
}

/// Soft or hard reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResetKind {
    Soft,
    Hard,
}

impl ResetBody {
    fn hard(&self) -> bool {
        self.kind == ResetKind::Hard
    }
}

/// `POST /chargers/{id}/unlock`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockBody {
    /// Required for 2.0.1 chargers.
    pub evse_id: Option<i32>,
    pub connector_id: i32,
}

/// `POST /chargers/{id}/firmware`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareBody {
    /// URI the charger downloads the firmware from.
    pub location: String,
    /// When to start downloading (default: now).
    pub retrieve_at: Option<DateTime<Utc>>,
    pub retries: Option<i32>,
    pub retry_interval_s: Option<i32>,
}

/// `POST /chargers/{id}/availability`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityBody {
    /// `operative` or `inoperative`.
    #[serde(rename = "type")]
    pub kind: AvailabilityKind,
    /// The EVSE (2.0.1) or connector (1.6); none: the whole charger.
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
}

/// Operative or inoperative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AvailabilityKind {
    Operative,
    Inoperative,
}

impl AvailabilityBody {
    fn ocpp_name(&self) -> &'static str {
        match self.kind {
            AvailabilityKind::Operative => "Operative",
            AvailabilityKind::Inoperative => "Inoperative",
        }
    }
}

/// `POST /chargers/{id}/trigger`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerBody {
    /// The message to trigger, as the charger's version names it (`BootNotification`,
    /// `StatusNotification`, `Heartbeat`, `MeterValues`, `FirmwareStatusNotification`, ...).
    pub message: String,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
}

/// `POST /chargers/{id}/diagnostics` (1.6 GetDiagnostics, 2.0.1 GetLog)
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsBody {
    /// URI the charger uploads to.
    pub location: String,
    pub start: Option<DateTime<Utc>>,
    pub stop: Option<DateTime<Utc>>,
}

/// `PUT /chargers/{id}/configuration` (1.6 ChangeConfiguration, 2.0.1 SetVariables)
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationBody {
    /// 1.6: the configuration key; 2.0.1: `Component.Variable`.
    pub key: String,
    pub value: String,
}

/// `POST /chargers/{id}/remote-start`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteStartBody {
    pub id_token: String,
    /// EVSE (2.0.1) or connector (1.6) to start on.
    pub evse_id: Option<i32>,
}

/// `POST /chargers/{id}/remote-stop`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteStopBody {
    /// The charger's transaction id (an integer for 1.6).
    pub transaction_id: String,
}

/// A remote action, independent of OCPP version.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    Reset(ResetBody),
    Unlock(UnlockBody),
    UpdateFirmware(FirmwareBody),
    Availability(AvailabilityBody),
    Trigger(TriggerBody),
    Diagnostics(DiagnosticsBody),
    GetConfiguration(Vec<String>),
    SetConfiguration(ConfigurationBody),
    RemoteStart(RemoteStartBody),
    RemoteStop(RemoteStopBody),
    ClearCache,
}

impl Command {
    /// The name used in audit rows and for "one of a kind in flight".
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Reset(_) => "reset",
            Command::Unlock(_) => "unlock",
            Command::UpdateFirmware(_) => "firmware",
            Command::Availability(_) => "availability",
            Command::Trigger(_) => "trigger",
            Command::Diagnostics(_) => "diagnostics",
            Command::GetConfiguration(_) => "get_configuration",
            Command::SetConfiguration(_) => "set_configuration",
            Command::RemoteStart(_) => "remote_start",
            Command::RemoteStop(_) => "remote_stop",
            Command::ClearCache => "clear_cache",
        }
    }

    /// The matrix permission this command needs.
    pub fn permission(&self) -> Permission {
        match self {
            Command::RemoteStart(_) | Command::RemoteStop(_) => Permission::RemoteStartStop,
            _ => Permission::RemoteMaintenance,
        }
    }

    fn event_kind(&self) -> Option<EventKind> {
        match self {
            Command::UpdateFirmware(_) => Some(EventKind::Firmware),
            Command::Diagnostics(_) => Some(EventKind::Diagnostics),
            _ => None,
        }
    }
}

/// What the charger answered.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CommandReply {
    /// The charger's own status (`Accepted`, `Rejected`, `Scheduled`, `Unlocked`, ...).
    pub status: String,
    /// Command-specific fields (`configuration`, `file_name`, `transaction_id`).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extra: Map<String, Value>,
}

/// Why a command produced no answer from the charger.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Service(#[from] services::Error),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("charger is offline")]
    Offline,
    #[error("charger has not been accepted by a BootNotification yet")]
    NotReady,
    #[error("a {0} command is already in flight for this charger")]
    Busy(&'static str),
    #[error("charger did not answer within the timeout")]
    Timeout,
    #[error("charger answered {code}: {description}")]
    ChargerError { code: String, description: String },
    #[error("connection closed before the charger answered")]
    Disconnected,
    #[error("charger answered with an invalid payload: {0}")]
    BadAnswer(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Sends `cmd` to a charger the principal may act on and returns the charger's answer.
pub async fn execute(state: &AppState, p: &Principal, charger_id: &str, cmd: Command) -> Result<CommandReply, Error> {
    let action = format!("command.{}", cmd.kind());
    let started = std::time::Instant::now();
    let observe = |outcome: &'static str| {
        let labels = CommandLabels {
            command: cmd.kind(),
            outcome,
        };
        state
            .metrics
            .commands
            .get_or_create(&labels)
            .observe(started.elapsed().as_secs_f64());
    };
    let (charger, org) = services::chargers::visible_charger(state, p, charger_id, &action).await?;
    let target = || {
        Target::new(format!("charger:{charger_id}"))
            .charger(charger_id)
            .org(org.id)
    };
    let proof = match cmd.permission() {
        Permission::RemoteStartStop => {
            CommandProof::StartStop(services::gate::<cap::RemoteStartStop>(state, p, &org, &action, target()).await?)
        }
        _ => CommandProof::Maintenance(
            services::gate::<cap::RemoteMaintenance>(state, p, &org, &action, target()).await?,
        ),
    };
    let request = serde_json::to_value(&cmd).ok();
    let refuse = |outcome: &'static str, err: Error| {
        let (request, action) = (request.clone(), action.as_str());
        observe(outcome);
        async move {
            let row = services::Audit::new(p, action, target()).detail(err.to_string());
            match request {
                Some(r) => row.request(r),
                None => row,
            }
            .outcome(state, outcome)
            .await;
            Err(err)
        }
    };

    // Some chargers reboot-loop when asked things before their boot is accepted. A charger
    // that reconnected without booting again counts as accepted if its last boot was, and so
    // does one on another node (its boot is in the shared database).
    let last_boot_accepted = charger.registration_status == ACCEPTED && charger.last_boot_at.is_some();
    let (version, booted) = match state.fleet.locate(charger_id) {
        Location::Nowhere => return refuse("offline", Error::Offline).await,
        Location::Here(conn) => (conn.version, conn.boot_accepted.unwrap_or(last_boot_accepted)),
        Location::Elsewhere { version, .. } => (version, last_boot_accepted),
    };
    if !booted {
        return refuse("not_ready", Error::NotReady).await;
    }
    let prepared = translate::request(&cmd, version)?;
    let Some(_slot) = state.commands.acquire(charger_id, cmd.kind()) else {
        return refuse("busy", Error::Busy(cmd.kind())).await;
    };

    let entry = AuditEntry {
        user_id: p.user_id(),
        action: action.clone(),
        organisation_id: Some(org.id),
        charger_id: Some(charger_id.to_owned()),
        resource: Some(format!("charger:{charger_id}")),
        request: request.clone(),
        outcome: "pending".into(),
        detail: None,
    };
    let audit_id = state.store.record_audit(entry).await.map_err(services::Error::from)?;
    if let Some(kind) = cmd.event_kind() {
        state
            .store
            .link_command(charger_id, kind, audit_id)
            .await
            .map_err(services::Error::from)?;
    }
    // 2.0.1 request ids carry the audit id, so later notifications point back at this row.
    let prepared = prepared.with_request_id(i32::try_from(audit_id).unwrap_or(i32::MAX));

    let origin = crate::cluster::Origin {
        user_id: p.user_id(),
        audit_id: Some(audit_id),
    };
    let answer = state
        .fleet
        .call(&proof, origin, charger_id, prepared.action, prepared.payload)
        .await;
    let result = match answer {
        Ok(payload) => translate::reply(&cmd, version, payload),
        Err(CallFailure::CallError { code, description, .. }) => Err(Error::ChargerError { code, description }),
        Err(CallFailure::Timeout) => Err(Error::Timeout),
        Err(CallFailure::Offline) => Err(Error::Offline),
        Err(CallFailure::Busy) => Err(Error::Busy(cmd.kind())),
        Err(CallFailure::Disconnected) => Err(Error::Disconnected),
    };
    observe(match &result {
        Ok(_) => "ok",
        Err(Error::Timeout) => "timeout",
        Err(Error::ChargerError { .. }) => "call_error",
        Err(Error::Offline) => "offline",
        Err(Error::Busy(_)) => "busy",
        Err(Error::Disconnected) => "disconnected",
        Err(Error::BadAnswer(_)) => "bad_answer",
        Err(_) => "failed",
    });
    let (outcome, detail) = match &result {
        Ok(reply) => (reply.status.clone(), None),
        Err(Error::Timeout) => ("timeout".into(), None),
        Err(Error::ChargerError { code, .. }) => ("call_error".into(), Some(code.clone())),
        Err(e) => ("failed".into(), Some(e.to_string())),
    };
    if let Err(e) = state.store.finish_audit(audit_id, &outcome, detail).await {
        tracing::error!(error = %e, audit_id, "could not record a command's outcome");
    }
    result
}
