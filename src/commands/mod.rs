//! Remote actions on chargers: a version-neutral [`Command`] goes through the gate, gets an
//! audit row (`pending`), is translated to the charger's own OCPP version, sent through the
//! fleet and awaited; the audit row then records what the charger answered.
//!
//! One file per command (mini-redis's `cmd/`): each holds the API body and its
//! [`message::Message`] impl, i.e. the typed rust-ocpp request for 1.6 and 2.0.1 and how the
//! typed answer reads. The API never builds OCPP payloads and never touches a connection: it
//! calls [`execute`].

mod availability;
pub mod campaign;
pub mod certificate;
mod clear_cache;
mod delete_certificate;
mod diagnostics;
mod error;
mod firmware;
mod get_configuration;
mod get_installed_certificates;
mod get_log;
mod install_certificate;
pub mod local_list;
mod message;
pub mod password;
mod remote_start;
mod remote_stop;
mod reply;
mod report;
mod reset;
pub mod security_profile;
mod set_configuration;
mod trigger;
mod unlock;
mod variables;

use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

pub use availability::{AvailabilityBody, AvailabilityKind};
pub use certificate::{CertificateRequest, CertificateSignedBody};
pub use clear_cache::ClearCache;
pub use delete_certificate::DeleteCertificateBody;
pub use diagnostics::DiagnosticsBody;
pub use error::Error;
pub use firmware::{FirmwareBody, SignedFirmwareBody};
pub use get_configuration::GetConfigurationKeys;
pub use get_installed_certificates::{CertificateKind, CertificateQuery, InstalledCertificate};
pub use get_log::{LogBody, LogKind};
pub use install_certificate::InstallCertificateBody;
pub use message::Prepared;
pub use password::PasswordBody;
pub use remote_start::RemoteStartBody;
pub use remote_stop::{RemoteStopBody, TransactionRef};
pub use reply::{CommandReply, ConfigurationEntry, ReplyStatus, StatusInfo};
pub use report::{BaseReport, ReportBody, ReportKind, SelectiveReport};
pub use reset::{ResetBody, ResetKind};
pub use set_configuration::ConfigurationBody;
pub use trigger::TriggerBody;
pub use unlock::UnlockBody;
pub use variables::{Attribute, GetVariablesBody, SetVariablesBody, VariableAddress, VariableSetting};

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
    SignedFirmware(SignedFirmwareBody),
    Availability(AvailabilityBody),
    Trigger(TriggerBody),
    Diagnostics(DiagnosticsBody),
    GetLog(LogBody),
    GetConfiguration(GetConfigurationKeys),
    SetConfiguration(ConfigurationBody),
    RemoteStart(RemoteStartBody),
    RemoteStop(RemoteStopBody),
    ClearCache(ClearCache),
    BaseReport(BaseReport),
    Report(SelectiveReport),
    SetVariables(SetVariablesBody),
    GetVariables(GetVariablesBody),
    Password(PasswordBody),
    RequestCertificate(CertificateRequest),
    CertificateSigned(CertificateSignedBody),
    GetCertificates(CertificateQuery),
    InstallCertificate(InstallCertificateBody),
    DeleteCertificate(DeleteCertificateBody),
    SecurityProfile(security_profile::SecurityProfileBody),
}

/// Runs `$e` with `$b` bound to the command's body, whichever command it is.
macro_rules! each_command {
    ($cmd:expr, $b:ident => $e:expr) => {
        match $cmd {
            Command::Reset($b) => $e,
            Command::Unlock($b) => $e,
            Command::UpdateFirmware($b) => $e,
            Command::SignedFirmware($b) => $e,
            Command::Availability($b) => $e,
            Command::Trigger($b) => $e,
            Command::Diagnostics($b) => $e,
            Command::GetLog($b) => $e,
            Command::GetConfiguration($b) => $e,
            Command::SetConfiguration($b) => $e,
            Command::RemoteStart($b) => $e,
            Command::RemoteStop($b) => $e,
            Command::ClearCache($b) => $e,
            Command::BaseReport($b) => $e,
            Command::Report($b) => $e,
            Command::SetVariables($b) => $e,
            Command::GetVariables($b) => $e,
            Command::Password($b) => $e,
            Command::RequestCertificate($b) => $e,
            Command::CertificateSigned($b) => $e,
            Command::GetCertificates($b) => $e,
            Command::InstallCertificate($b) => $e,
            Command::DeleteCertificate($b) => $e,
            Command::SecurityProfile($b) => $e,
        }
    };
}

impl Command {
    /// The name used in audit rows and for "one of a kind in flight".
    pub fn kind(&self) -> &'static str {
        match self {
            Command::Reset(_) => "reset",
            Command::Unlock(_) => "unlock",
            Command::UpdateFirmware(_) | Command::SignedFirmware(_) => "firmware",
            Command::Availability(_) => "availability",
            Command::Trigger(_) => "trigger",
            Command::Diagnostics(_) | Command::GetLog(_) => "diagnostics",
            Command::GetConfiguration(_) => "get_configuration",
            Command::SetConfiguration(_) => "set_configuration",
            Command::RemoteStart(_) => "remote_start",
            Command::RemoteStop(_) => "remote_stop",
            Command::ClearCache(_) => "clear_cache",
            Command::BaseReport(_) | Command::Report(_) => "report",
            Command::SetVariables(_) => "set_variables",
            Command::GetVariables(_) => "get_variables",
            Command::Password(_) => "password",
            Command::RequestCertificate(_) => "request_certificate",
            Command::CertificateSigned(_) => "certificate_signed",
            Command::GetCertificates(_) => "get_certificates",
            Command::InstallCertificate(_) => "install_certificate",
            Command::DeleteCertificate(_) => "delete_certificate",
            Command::SecurityProfile(_) => "security_profile",
        }
    }

    /// The body as the audit row keeps it: values of secret variables are not kept.
    fn audited(&self) -> Option<Value> {
        let mut body = serde_json::to_value(self).ok()?;
        let hide = |item: &mut Value, name: &str| {
            if crate::ocpp::is_secret_variable(name) {
                item["value"] = Value::from("(secret)");
            }
        };
        match self {
            Command::SetConfiguration(c) => {
                // A 1.6 key is the variable; a 2.0.1 key names it after its component.
                let variable = message::component_variable(&c.key).map_or_else(|_| c.key.clone(), |(_, v)| v.name);
                hide(&mut body, &variable);
            }
            Command::SetVariables(b) => {
                for (i, s) in b.items.iter().enumerate() {
                    if let Some(item) = body["items"].get_mut(i) {
                        hide(item, &s.variable);
                    }
                }
            }
            // The password itself is never serialised; whether voltgate chose it is kept.
            Command::Password(b) => body["generated"] = Value::from(b.password.is_none() || b.generated),
            _ => {}
        }
        Some(body)
    }

    /// The matrix permission this command needs.
    pub fn permission(&self) -> Permission {
        match self {
            Command::RemoteStart(_) | Command::RemoteStop(_) => Permission::RemoteStartStop,
            Command::Password(_)
            | Command::RequestCertificate(_)
            | Command::CertificateSigned(_)
            | Command::GetCertificates(_)
            | Command::InstallCertificate(_)
            | Command::DeleteCertificate(_)
            | Command::SecurityProfile(_) => Permission::ChargerSecurity,
            Command::GetLog(b) if b.log_type == LogKind::Security => Permission::ChargerSecurity,
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
            Command::UpdateFirmware(_) | Command::SignedFirmware(_) => Some(Progress::Firmware),
            Command::Diagnostics(_) | Command::GetLog(_) => Some(Progress::Diagnostics),
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
        request: cmd.audited(),
        started: Instant::now(),
        cmd,
    };
    let (charger, org) = services::chargers::visible_charger(state, p, charger_id, &run.action).await?;
    let target = run.target(org.id);
    let proof = gate_command(state, p, &org, run.cmd.permission(), &run.action, target).await?;
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
        run.request = run.cmd.audited();
    }
    let version = match run.ready(&charger) {
        Ok(v) => v,
        Err(e) => return Err(run.refused(org.id, e).await),
    };
    // A body this version cannot carry is the caller's mistake: no audit row, no slot.
    match &mut run.cmd {
        Command::Password(body) => body.choose(version)?,
        Command::RequestCertificate(_) => certificate::check_ca(state)?,
        Command::SecurityProfile(b) => security_profile::check(state, &charger, b.profile)?,
        _ => {}
    }
    run.cmd.prepare(version, 0)?;
    let Some(_slot) = state.commands.acquire(charger_id, run.cmd.kind()) else {
        return Err(run.refused(org.id, Error::Busy(run.cmd.kind())).await);
    };
    let offer = match (&run.cmd, &proof) {
        (Command::Password(body), CommandProof::Security(may)) => {
            match password::offer(state, may, &charger, body).await {
                Ok(id) => Some(id),
                Err(e) => return Err(run.refused(org.id, e).await),
            }
        }
        (Command::SecurityProfile(body), CommandProof::Security(may)) => {
            if let Err(e) = security_profile::stage(state, may, &charger, body).await {
                return Err(run.refused(org.id, e).await);
            }
            None
        }
        _ => None,
    };
    let audit_id = run.open(org.id).await?;
    let mut result = run.send(&proof, version, audit_id).await;
    if let Some(offer) = offer {
        password::settle(state, offer, &result).await;
    }
    if let CommandProof::Security(may) = &proof {
        certificate::settle(state, may, &charger, &run.cmd, &result).await;
        if let Command::SecurityProfile(_) = &run.cmd {
            security_profile::settle(state, may, &charger, &result).await;
        }
    }
    if let (Ok(reply), Command::UpdateFirmware(_) | Command::SignedFirmware(_)) = (&result, &run.cmd) {
        firmware::refused_certificate(state, charger_id, reply).await;
    }
    if let (Ok(reply), Command::Password(body)) = (&mut result, &run.cmd) {
        reply.password = body.shown();
    }
    run.finish(audit_id, result).await
}

/// The gate for a command's `permission` on `org` (remote maintenance unless it is remote
/// start/stop or charger security), refusals audited.
async fn gate_command(
    state: &AppState,
    p: &Principal,
    org: &entity::organisation::Model,
    permission: Permission,
    action: &str,
    target: Target,
) -> Result<CommandProof, services::Error> {
    Ok(match permission {
        Permission::RemoteStartStop => {
            CommandProof::StartStop(services::gate::<cap::RemoteStartStop>(state, p, org, action, target).await?)
        }
        Permission::ChargerSecurity => {
            CommandProof::Security(services::gate::<cap::ChargerSecurity>(state, p, org, action, target).await?)
        }
        _ => CommandProof::Maintenance(services::gate::<cap::RemoteMaintenance>(state, p, org, action, target).await?),
    })
}

/// The platform as an operator on the root of `c`'s tree: who voltgate's own security
/// commands (scheduled rotation, certificates) run as, audited with no user. `None` for a
/// charger in no organisation; a database error is the caller's to report, not a silent skip.
async fn platform_for(state: &AppState, c: &charger::Model) -> crate::store::Result<Option<Principal>> {
    let Some(org_id) = c.organisation_id else {
        return Ok(None);
    };
    let Some(org) = state.store.organisation(org_id).await? else {
        return Ok(None);
    };
    let root = state.store.organisation(crate::store::root_of(&org.path)).await?;
    Ok(root.map(|root| Principal::system(&root)))
}

/// Sends `cmd()` as the platform to each of `chargers` connected to this node (another node
/// serves its own; an offline charger waits for its next connection); returns how many took it
/// (`Accepted`, or 1.6 `RebootRequired`).
async fn as_platform_here(
    state: &AppState,
    chargers: Vec<charger::Model>,
    what: &str,
    cmd: impl Fn() -> Command,
) -> usize {
    let mut taken = 0;
    for c in chargers {
        if !matches!(state.fleet.locate(&c.id), Location::Here(_)) {
            continue;
        }
        let platform = match platform_for(state, &c).await {
            Ok(Some(platform)) => platform,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!(charger = %c.id, error = %e, what, "not done: the charger's organisation was not read");
                continue;
            }
        };
        match execute(state, &platform, &c.id, cmd()).await {
            Ok(reply) if reply.status.took() => taken += 1,
            Ok(reply) => tracing::warn!(charger = %c.id, status = %reply.status, what, "the charger refused"),
            Err(e) => tracing::warn!(charger = %c.id, error = %e, what, "not done"),
        }
    }
    taken
}

/// A value an answer carries, as the device model stores it: a 2.0.1 key is read back into its
/// address; anything else is a 1.6 key (component `""`).
fn read_back(key: &str, value: Option<String>, readonly: Option<bool>) -> Option<crate::store::ReportedVariable> {
    let mut row = crate::store::ReportedVariable {
        attribute: "Actual".into(),
        value,
        mutability: readonly.map(|ro| if ro { "ReadOnly" } else { "ReadWrite" }.into()),
        ..Default::default()
    };
    match (readonly, message::component_variable(key)) {
        (None, Ok((c, v))) => {
            row.component = c.name;
            row.component_instance = c.instance;
            row.evse_id = c.evse.as_ref().map(|e| e.id);
            row.connector_id = c.evse.and_then(|e| e.connector_id);
            row.variable = v.name;
            row.variable_instance = v.instance;
        }
        (None, Err(_)) => return None,
        (Some(_), _) => row.variable = key.to_owned(),
    }
    Some(row)
}

/// Whether the charger accepted `setting` (1.6 answers one status for its one key).
fn set_accepted(reply: &CommandReply, setting: &VariableSetting) -> bool {
    match &reply.configuration {
        Some(entries) => setting.address().key(true).is_ok_and(|key| {
            entries
                .iter()
                .any(|e| e.key == key && e.status == Some(ReplyStatus::Accepted))
        }),
        None => reply.status == ReplyStatus::Accepted,
    }
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

    /// Keeps what an answer itself reports in the stored device model: a 1.6 GetConfiguration
    /// asked for as a report is the charger's configuration inventory (2.0.1 reports arrive
    /// later, as NotifyReport); values read or set with `Accepted` are the charger's now.
    async fn remember(&self, audit_id: i64, reply: &CommandReply) {
        let report = matches!(self.cmd, Command::BaseReport(_) | Command::Report(_));
        let rows = match &self.cmd {
            Command::BaseReport(_) | Command::Report(_) | Command::GetVariables(_) => reply
                .configuration
                .iter()
                .flatten()
                .filter(|e| e.status.is_none_or(|s| s == ReplyStatus::Accepted))
                .filter_map(|e| read_back(&e.key, e.value.clone(), e.readonly))
                .collect(),
            Command::SetVariables(b) => b
                .items
                .iter()
                .filter(|s| set_accepted(reply, s))
                .map(|s| crate::store::ReportedVariable {
                    component: s.component.clone(),
                    component_instance: s.component_instance.clone(),
                    evse_id: s.evse_id,
                    connector_id: s.connector_id,
                    variable: s.variable.clone(),
                    variable_instance: s.variable_instance.clone(),
                    attribute: s.attribute.unwrap_or_default().as_str().into(),
                    value: Some(s.value.clone()),
                    ..Default::default()
                })
                .collect(),
            _ => return,
        };
        let request_id = i32::try_from(audit_id).ok();
        let store = &self.state.store;
        let stored = if report {
            store.record_variables(self.charger_id, request_id, rows).await
        } else {
            store.record_values(self.charger_id, request_id, rows).await
        };
        if let Err(e) = stored {
            tracing::error!(error = %e, charger = self.charger_id, "could not store variables a command read or set");
        }
    }

    /// Records the charger's answer (or its absence) on the audit row.
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
