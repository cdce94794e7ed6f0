//! Remote actions on chargers: a version-neutral [`Command`] goes through the gate, gets an
//! audit row (`pending`), is translated to the charger's own OCPP version, sent through the
//! fleet and awaited; the audit row then records what the charger answered.
//!
//! One file per command (mini-redis's `cmd/`): each holds the API body and its
//! [`message::Message`] impl, i.e. the typed rust-ocpp request for 1.6 and 2.0.1 and how the
//! typed answer reads. The API never builds OCPP payloads and never touches a connection: it
//! calls [`execute`].

mod availability;
mod clear_cache;
mod diagnostics;
mod error;
mod firmware;
mod get_configuration;
mod message;
mod remote_start;
mod remote_stop;
mod reply;
mod report;
mod reset;
mod set_configuration;
mod trigger;
mod unlock;

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

pub use availability::{AvailabilityBody, AvailabilityKind};
pub use clear_cache::ClearCache;
pub use diagnostics::DiagnosticsBody;
pub use error::Error;
pub use firmware::FirmwareBody;
pub use get_configuration::GetConfigurationKeys;
pub use message::Prepared;
pub use remote_start::RemoteStartBody;
pub use remote_stop::{RemoteStopBody, TransactionRef};
pub use reply::{CommandReply, ConfigurationEntry, ReplyStatus, StatusInfo};
pub use report::{BaseReport, ReportBody, ReportKind, SelectiveReport};
pub use reset::{ResetBody, ResetKind};
pub use set_configuration::ConfigurationBody;
pub use trigger::TriggerBody;
pub use unlock::UnlockBody;

use crate::access::{CommandProof, Permission, Principal, cap};
use crate::cluster::{Location, Origin};
use crate::metrics::CommandLabels;
use crate::ocpp::OcppVersion;
use crate::services::{self, Audit, Target};
use crate::state::AppState;
use crate::store::{AuditEntry, Progress};
use entity::charger;
use entity::values::{RegistrationStatus, TokenKind};

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
    GetConfiguration(GetConfigurationKeys),
    SetConfiguration(ConfigurationBody),
    RemoteStart(RemoteStartBody),
    RemoteStop(RemoteStopBody),
    ClearCache(ClearCache),
    BaseReport(BaseReport),
    Report(SelectiveReport),
}

/// Runs `$e` with `$b` bound to the command's body, whichever command it is.
macro_rules! each_command {
    ($cmd:expr, $b:ident => $e:expr) => {
        match $cmd {
            Command::Reset($b) => $e,
            Command::Unlock($b) => $e,
            Command::UpdateFirmware($b) => $e,
            Command::Availability($b) => $e,
            Command::Trigger($b) => $e,
            Command::Diagnostics($b) => $e,
            Command::GetConfiguration($b) => $e,
            Command::SetConfiguration($b) => $e,
            Command::RemoteStart($b) => $e,
            Command::RemoteStop($b) => $e,
            Command::ClearCache($b) => $e,
            Command::BaseReport($b) => $e,
            Command::Report($b) => $e,
        }
    };
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
            Command::ClearCache(_) => "clear_cache",
            Command::BaseReport(_) | Command::Report(_) => "report",
        }
    }

    /// The matrix permission this command needs.
    pub fn permission(&self) -> Permission {
        match self {
            Command::RemoteStart(_) | Command::RemoteStop(_) => Permission::RemoteStartStop,
            _ => Permission::RemoteMaintenance,
        }
    }

    /// The CALL for a charger of `version`.
    pub fn prepare(&self, version: OcppVersion, request_id: i32) -> Result<Prepared, Error> {
        each_command!(self, b => message::prepare(b, version, request_id))
    }

    /// The charger's answer to this command.
    pub fn answer(&self, version: OcppVersion, payload: Value) -> Result<CommandReply, Error> {
        fn read<M: message::Message>(_: &M, version: OcppVersion, payload: Value) -> Result<CommandReply, Error> {
            message::answer::<M>(version, payload)
        }
        each_command!(self, b => read(b, version, payload))
    }

    fn progress(&self) -> Option<Progress> {
        match self {
            Command::UpdateFirmware(_) => Some(Progress::Firmware),
            Command::Diagnostics(_) => Some(Progress::Diagnostics),
            _ => None,
        }
    }
}

/// Sends `cmd` to a charger the principal may act on and returns the charger's answer.
pub async fn execute(state: &AppState, p: &Principal, charger_id: &str, cmd: Command) -> Result<CommandReply, Error> {
    let mut run = Run {
        state,
        p,
        charger_id,
        action: format!("command.{}", cmd.kind()),
        request: serde_json::to_value(&cmd).ok(),
        started: Instant::now(),
        cmd,
    };
    let (charger, org) = services::chargers::visible_charger(state, p, charger_id, &run.action).await?;
    let target = run.target(org.id);
    let proof = match run.cmd.permission() {
        Permission::RemoteStartStop => {
            CommandProof::StartStop(services::gate::<cap::RemoteStartStop>(state, p, &org, &run.action, target).await?)
        }
        _ => CommandProof::Maintenance(
            services::gate::<cap::RemoteMaintenance>(state, p, &org, &run.action, target).await?,
        ),
    };
    if let Command::RemoteStart(body) = &mut run.cmd
        && body.id_token_type.is_none()
    {
        // The charger sends back, and its local list keeps, the kind it was told.
        let registered = state
            .store
            .id_token_by_value(crate::store::root_of(&org.path), &body.id_token)
            .await
            .map_err(services::Error::from)?;
        body.id_token_type = Some(registered.map_or(TokenKind::Central, |t| t.kind));
        run.request = serde_json::to_value(&run.cmd).ok();
    }
    let version = match run.ready(&charger) {
        Ok(v) => v,
        Err(e) => return Err(run.refused(org.id, e).await),
    };
    // A body this version cannot carry is the caller's mistake: no audit row, no slot.
    run.cmd.prepare(version, 0)?;
    let Some(_slot) = state.commands.acquire(charger_id, run.cmd.kind()) else {
        return Err(run.refused(org.id, Error::Busy(run.cmd.kind())).await);
    };
    let audit_id = run.open(org.id).await?;
    let result = run.send(&proof, version, audit_id).await;
    run.finish(audit_id, result).await
}

/// One command on its way: what the audit rows and the metrics need to know about it.
struct Run<'a> {
    state: &'a AppState,
    p: &'a Principal,
    charger_id: &'a str,
    cmd: Command,
    action: String,
    request: Option<Value>,
    started: Instant,
}

impl Run<'_> {
    fn target(&self, org_id: i32) -> Target {
        Target::new(format!("charger:{}", self.charger_id))
            .charger(self.charger_id)
            .org(org_id)
    }

    fn observe(&self, outcome: &'static str) {
        let labels = CommandLabels {
            command: self.cmd.kind(),
            outcome,
        };
        let metric = self.state.metrics.commands.get_or_create(&labels);
        metric.observe(self.started.elapsed().as_secs_f64());
    }

    /// The charger's version if it can take a command now.
    ///
    /// Some chargers reboot-loop when asked things before their boot is accepted. A charger
    /// that reconnected without booting again counts as accepted if its last boot was, and so
    /// does one on another node (its boot is in the shared database).
    fn ready(&self, charger: &charger::Model) -> Result<OcppVersion, Error> {
        let last_boot_accepted =
            charger.registration_status == RegistrationStatus::Accepted && charger.last_boot_at.is_some();
        let (version, booted) = match self.state.fleet.locate(self.charger_id) {
            Location::Nowhere => return Err(Error::Offline),
            Location::Here(conn) => (conn.version, conn.boot_accepted.unwrap_or(last_boot_accepted)),
            Location::Elsewhere { version, .. } => (version, last_boot_accepted),
        };
        if booted { Ok(version) } else { Err(Error::NotReady) }
    }

    /// Audits a command that was never sent, and hands its error back.
    async fn refused(&self, org_id: i32, err: Error) -> Error {
        self.observe(err.outcome());
        let row = Audit::new(self.p, &self.action, self.target(org_id)).detail(err.to_string());
        let row = match &self.request {
            Some(r) => row.request(r.clone()),
            None => row,
        };
        row.outcome(self.state, err.outcome()).await;
        err
    }

    /// The `pending` audit row the charger's answer (and later notifications) land on.
    async fn open(&self, org_id: i32) -> Result<i64, Error> {
        let target = self.target(org_id);
        let entry = AuditEntry {
            user_id: self.p.user_id(),
            action: self.action.clone(),
            organisation_id: target.organisation_id,
            charger_id: target.charger_id,
            resource: Some(target.resource),
            request: self.request.clone(),
            outcome: "pending".into(),
            detail: None,
        };
        let store = &self.state.store;
        let audit_id = store.record_audit(entry).await.map_err(services::Error::from)?;
        if let Some(kind) = self.cmd.progress() {
            store
                .link_command(self.charger_id, kind, audit_id)
                .await
                .map_err(services::Error::from)?;
        }
        Ok(audit_id)
    }

    async fn send(&self, proof: &CommandProof, version: OcppVersion, audit_id: i64) -> Result<CommandReply, Error> {
        // 2.0.1 request ids carry the audit id, so later notifications point back at this row.
        let request_id = i32::try_from(audit_id)
            .map_err(|_| Error::Internal(format!("audit id {audit_id} exceeds OCPP's request id range")))?;
        let prepared = self.cmd.prepare(version, request_id)?;
        let origin = Origin {
            user_id: self.p.user_id(),
            audit_id: Some(audit_id),
        };
        let fleet = &self.state.fleet;
        let payload = fleet
            .call(proof, origin, self.charger_id, prepared.action, prepared.payload)
            .await
            .map_err(|f| Error::from_call(f, self.cmd.kind()))?;
        self.cmd.answer(version, payload)
    }

    /// Records the charger's answer (or its absence) on the audit row.
    /// Keeps what an answer itself reports: a 1.6 GetConfiguration asked for as a report is
    /// the charger's configuration inventory (2.0.1 reports arrive later, as NotifyReport).
    async fn remember(&self, audit_id: i64, reply: &CommandReply) {
        let (Command::BaseReport(_) | Command::Report(_), Some(entries)) = (&self.cmd, &reply.configuration) else {
            return;
        };
        let rows = entries
            .iter()
            .map(|e| crate::store::ReportedVariable {
                variable: e.key.clone(),
                attribute: "Actual".into(),
                value: e.value.clone(),
                mutability: e.readonly.map(|ro| if ro { "ReadOnly" } else { "ReadWrite" }.into()),
                ..Default::default()
            })
            .collect();
        let request_id = i32::try_from(audit_id).ok();
        if let Err(e) = self
            .state
            .store
            .record_variables(self.charger_id, request_id, rows)
            .await
        {
            tracing::error!(error = %e, charger = self.charger_id, "could not store a configuration inventory");
        }
    }

    async fn finish(&self, audit_id: i64, result: Result<CommandReply, Error>) -> Result<CommandReply, Error> {
        let (outcome, detail) = match &result {
            Ok(reply) => {
                self.observe("ok");
                self.remember(audit_id, reply).await;
                // The charger's reason, kept with its answer (2.0.1 statusInfo).
                let reason = reply.status_info.as_ref().map(|i| match &i.additional_info {
                    Some(more) => format!("{}: {more}", i.reason_code),
                    None => i.reason_code.clone(),
                });
                (reply.status.as_str(), reason)
            }
            Err(e) => {
                self.observe(e.outcome());
                (e.audit_outcome(), e.audit_detail())
            }
        };
        if let Err(e) = self.state.store.finish_audit(audit_id, outcome, detail).await {
            tracing::error!(error = %e, audit_id, "could not record a command's outcome");
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_command_is_recorded_with_its_body() {
        let keys = Command::GetConfiguration(GetConfigurationKeys {
            keys: vec!["HeartbeatInterval".into()],
        });
        assert_eq!(
            serde_json::to_value(&keys).unwrap(),
            json!({"command": "get_configuration", "keys": ["HeartbeatInterval"]})
        );
        assert_eq!(
            serde_json::to_value(Command::ClearCache(ClearCache)).unwrap(),
            json!({"command": "clear_cache"})
        );
    }
}
