//! Campaigns (issue 22): one remote command for many chargers, staged. Creating one resolves
//! its target through the gate, so it holds only chargers the caller may run that command on
//! (others are neither counted nor named); [`runner`] then sends each charger the ordinary
//! command through [`super::execute`] with the creator's rights as they are at that moment
//! (the same gate, audit row and answer handling as one charger's command).
//!
//! State lives in the database (`campaign`, `campaign_charger`): a restart or another node
//! continues where the last runner stopped, and a step is moved to `sending` before it is sent,
//! so no charger is sent its command twice.

mod runner;

use chrono::{DateTime, Utc};
use entity::values::{CampaignState, CampaignStepState};
use entity::{campaign, campaign_charger, organisation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use runner::spawn;

use super::{
    AvailabilityBody, ClearCache, Command, ConfigurationBody, DiagnosticsBody, Error, FirmwareBody, LogBody, ResetBody,
    TriggerBody, UnlockBody, VariableSetting,
};
use crate::access::{AccessError, CommandProof, Permission, Principal, Scope};
use crate::ocpp::OcppVersion;
use crate::services::{self, Audit, ListQuery, Target, invalid, named_organisation, refused};
use crate::state::AppState;
use crate::store::{ChargerFilter, NewCampaign, Page, StepCounts};

/// Chargers one campaign may hold.
const MAX_CHARGERS: u64 = 100_000;
/// Steps in flight at once, at most.
const MAX_CONCURRENCY: u32 = 1_000;
/// Charger ids a target may name (each is a bound parameter of one query).
const MAX_NAMED: usize = 10_000;

/// The command a campaign sends, with the body the one-charger endpoint takes.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CampaignCommand {
    Reset(ResetBody),
    Unlock(UnlockBody),
    Availability(AvailabilityBody),
    Trigger(TriggerBody),
    /// Signed when it carries `signing_certificate` and `signature`; a charger counts as done
    /// when it reports `Installed` (or a failure).
    Firmware(FirmwareBody),
    /// 1.6 GetDiagnostics.
    Diagnostics(DiagnosticsBody),
    /// GetLog (2.0.1, 1.6 security whitepaper).
    GetLog(LogBody),
    SetVariables(VariablesBody),
    /// 1.6 ChangeConfiguration (2.0.1: `Component/Variable` keys).
    SetConfiguration(ConfigurationBody),
    ClearCache,
    /// The whole local authorisation list sent again.
    LocalList,
}

/// `set_variables`: the values to set on every charger.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariablesBody {
    pub items: Vec<VariableSetting>,
}

/// What one charger of a campaign is sent.
#[derive(Debug, Clone)]
enum Step {
    Command(Command),
    LocalList,
}

impl CampaignCommand {
    fn step(&self) -> Step {
        Step::Command(match self.clone() {
            Self::Reset(b) => Command::Reset(b),
            Self::Unlock(b) => Command::Unlock(b),
            Self::Availability(b) => Command::Availability(b),
            Self::Trigger(b) => Command::Trigger(b),
            Self::Firmware(b) => b.into_command(),
            Self::Diagnostics(b) => Command::Diagnostics(b),
            Self::GetLog(b) => Command::GetLog(b),
            Self::SetVariables(b) => Command::SetVariables(super::SetVariablesBody { items: b.items }),
            Self::SetConfiguration(b) => Command::SetConfiguration(b),
            Self::ClearCache => Command::ClearCache(ClearCache),
            Self::LocalList => return Step::LocalList,
        })
    }

    fn permission(&self) -> Permission {
        match self.step() {
            Step::Command(c) => c.permission(),
            Step::LocalList => Permission::RemoteMaintenance,
        }
    }

    /// Whether a charger counts as done only once it reports its firmware installed.
    fn follows_firmware(&self) -> bool {
        matches!(self, Self::Firmware(_))
    }

    /// A body no charger of `version` could take is refused before anything is sent.
    fn check(&self, version: OcppVersion) -> Result<(), Error> {
        let Step::Command(cmd) = self.step() else {
            return Ok(());
        };
        let secret = match &cmd {
            Command::SetVariables(b) => b.items.iter().any(|s| crate::ocpp::is_secret_variable(&s.variable)),
            Command::SetConfiguration(c) => {
                let variable =
                    super::message::component_variable(&c.key).map_or_else(|_| c.key.clone(), |(_, v)| v.name);
                crate::ocpp::is_secret_variable(&variable)
            }
            _ => false,
        };
        if secret {
            // A campaign is kept and shown with its body; each charger has its own password.
            return Err(Error::Invalid {
                field: "command".into(),
                message: "secrets are set one charger at a time (POST /chargers/{id}/password)".into(),
            });
        }
        cmd.prepare(version, 0).map(|_| ())
    }
}

/// Which chargers a campaign is for: at most one of `organisation_id`, `site_id` and
/// `charger_ids` (none: every charger the caller may run the command on), narrowed by the
/// other fields.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignTarget {
    pub organisation_id: Option<i32>,
    pub site_id: Option<i32>,
    #[schema(max_items = 10000)]
    pub charger_ids: Option<Vec<String>>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub firmware_version: Option<String>,
    /// `1.6` or `2.0.1`.
    pub ocpp_version: Option<OcppVersion>,
}

/// `POST /api/v1/campaigns`
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaignIn {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    pub command: CampaignCommand,
    #[serde(default)]
    pub target: CampaignTarget,
    /// Chargers whose command is in flight (or, for firmware, installing) at once; default 10.
    #[schema(minimum = 1, maximum = 1000)]
    pub concurrency: Option<u32>,
    /// The campaign pauses itself when more than this share of its finished chargers failed
    /// (counted from its start or last resume, over at least `concurrency` chargers); default
    /// 0.2.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub max_failure_ratio: Option<f64>,
    /// Chargers not reached by then are `expired`; firmware not installed by then `failed`.
    pub deadline: Option<DateTime<Utc>>,
}

/// `?limit=&offset=` of a campaign's chargers.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StepsQuery {
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// Chargers to skip (they are ordered by id).
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub offset: Option<u64>,
}

impl StepsQuery {
    /// The page asked for; out of bounds is a 422 naming the field.
    pub fn page(&self) -> Result<Page, Error> {
        Ok(services::page(self.limit, self.offset)?)
    }
}

/// How many of a campaign's chargers are in each state.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct CampaignCounts {
    pub total: u64,
    pub queued: u64,
    pub sending: u64,
    pub installing: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub expired: u64,
    pub cancelled: u64,
    pub interrupted: u64,
}

impl From<&StepCounts> for CampaignCounts {
    fn from(c: &StepCounts) -> Self {
        let of = |s| c.get(&s).copied().unwrap_or(0);
        Self {
            total: c.values().sum(),
            queued: of(CampaignStepState::Queued),
            sending: of(CampaignStepState::Sending),
            installing: of(CampaignStepState::Installing),
            succeeded: of(CampaignStepState::Succeeded),
            failed: of(CampaignStepState::Failed),
            expired: of(CampaignStepState::Expired),
            cancelled: of(CampaignStepState::Cancelled),
            interrupted: of(CampaignStepState::Interrupted),
        }
    }
}

/// One charger of a campaign.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignChargerOut {
    pub charger_id: String,
    pub state: CampaignStepState,
    /// The charger's answer (`Accepted`, `Rejected`, ...); for firmware, its last status.
    pub answer: Option<String>,
    /// The charger's reason with its answer (2.0.1 statusInfo).
    pub status_info: Option<String>,
    /// Why there was no answer: offline until the deadline, CALLERROR, timeout, ...
    pub detail: Option<String>,
    /// The command's audit row (firmware campaigns).
    pub audit_id: Option<i64>,
    pub started_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<campaign_charger::Model> for CampaignChargerOut {
    fn from(s: campaign_charger::Model) -> Self {
        Self {
            charger_id: s.charger_id,
            state: s.state,
            answer: s.answer,
            status_info: s.status_info,
            detail: s.detail,
            audit_id: s.audit_id,
            started_at: s.started_at,
            updated_at: s.updated_at,
        }
    }
}

/// A campaign as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignOut {
    pub id: i32,
    pub name: String,
    /// The subtree its chargers were in when it was created.
    pub organisation_id: i32,
    pub created_by: i32,
    pub command: CampaignCommand,
    pub target: CampaignTarget,
    pub concurrency: i32,
    pub max_failure_ratio: f64,
    pub deadline: Option<DateTime<Utc>>,
    pub state: CampaignState,
    /// Why it paused or ended by itself.
    pub reason: Option<String>,
    pub counts: CampaignCounts,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// One page of its chargers (single-campaign answers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chargers: Option<Vec<CampaignChargerOut>>,
}

impl CampaignOut {
    fn new(c: campaign::Model, counts: Option<&StepCounts>) -> Result<Self, Error> {
        Ok(Self {
            command: stored(c.command, "command")?,
            target: stored(c.target, "target")?,
            id: c.id,
            name: c.name,
            organisation_id: c.organisation_id,
            created_by: c.created_by,
            concurrency: c.concurrency,
            max_failure_ratio: c.max_failure_ratio,
            deadline: c.deadline,
            state: c.state,
            reason: c.reason,
            counts: counts.map(CampaignCounts::from).unwrap_or_default(),
            created_at: c.created_at,
            updated_at: c.updated_at,
            finished_at: c.finished_at,
            chargers: None,
        })
    }
}

fn stored<T: serde::de::DeserializeOwned>(v: serde_json::Value, what: &str) -> Result<T, Error> {
    serde_json::from_value(v).map_err(|e| Error::Internal(format!("a stored campaign {what} does not read back: {e}")))
}

/// What a person may do to a running or paused campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Steer {
    Pause,
    Resume,
    Cancel,
}

impl Steer {
    fn action(self) -> &'static str {
        match self {
            Steer::Pause => "campaign.pause",
            Steer::Resume => "campaign.resume",
            Steer::Cancel => "campaign.cancel",
        }
    }

    fn state(self) -> CampaignState {
        match self {
            Steer::Pause => CampaignState::Paused,
            Steer::Resume => CampaignState::Running,
            Steer::Cancel => CampaignState::Cancelled,
        }
    }
}

fn target_of(c: &campaign::Model) -> Target {
    Target::new(format!("campaign:{}", c.id)).org(c.organisation_id)
}

/// `POST /api/v1/campaigns`: resolves the target through the gate and queues one step per
/// charger; 422 when the target holds no charger the caller may run the command on.
pub async fn create(state: &AppState, p: &Principal, body: NewCampaignIn) -> Result<CampaignOut, Error> {
    let action = "campaign.create";
    let user_id = p.user_id().ok_or(services::Error::Unauthenticated)?;
    let (concurrency, ratio) = checked(&body)?;
    let permission = body.command.permission();
    let (within, site_id, scope) = target_scope(state, p, &body.target, permission, action).await?;
    let chargers = target_chargers(state, &body, &scope, site_id).await?;
    let org = match within {
        Some(org) => org,
        None => common_organisation(state, p, &chargers, action).await?,
    };
    let target = Target::new("campaign").org(org.id);
    let proof = super::gate_command(state, p, &org, permission, action, target.clone()).await?;
    let new = NewCampaign {
        name: body.name.trim().to_owned(),
        created_by: user_id,
        command: serde_json::to_value(&body.command).map_err(|e| Error::Internal(e.to_string()))?,
        target: serde_json::to_value(&body.target).map_err(|e| Error::Internal(e.to_string()))?,
        concurrency: i32::try_from(concurrency).unwrap_or(i32::MAX),
        max_failure_ratio: ratio,
        deadline: body.deadline,
    };
    let ids: Vec<String> = chargers.into_iter().map(|c| c.id).collect();
    let created = state.store.create_campaign(&proof, new, &ids).await?;
    Audit::new(p, action, target_of(&created))
        .detail(format!("{} chargers", ids.len()))
        .ok(state)
        .await;
    let counts = StepCounts::from([(CampaignStepState::Queued, ids.len() as u64)]);
    CampaignOut::new(created, Some(&counts))
}

/// The body's own bounds, before anything is looked up: its concurrency and failure ratio.
fn checked(body: &NewCampaignIn) -> Result<(u32, f64), Error> {
    services::non_blank("name", Some(&body.name))?;
    let concurrency = body.concurrency.unwrap_or(10);
    if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
        return Err(invalid("concurrency", format!("must be between 1 and {MAX_CONCURRENCY}")).into());
    }
    let ratio = body.max_failure_ratio.unwrap_or(0.2);
    if !(0.0..=1.0).contains(&ratio) {
        return Err(invalid("max_failure_ratio", "must be between 0 and 1").into());
    }
    if body.deadline.is_some_and(|d| d <= Utc::now()) {
        return Err(invalid("deadline", "must be in the future").into());
    }
    if body.name.chars().count() > 200 {
        return Err(invalid("name", "at most 200 characters").into());
    }
    let t = &body.target;
    if t.charger_ids.as_ref().is_some_and(|ids| ids.len() > MAX_NAMED) {
        return Err(invalid("target.charger_ids", format!("at most {MAX_NAMED}")).into());
    }
    let named = [
        t.organisation_id.is_some(),
        t.site_id.is_some(),
        t.charger_ids.is_some(),
    ];
    if named.into_iter().filter(|n| *n).count() > 1 {
        return Err(invalid("target", "name at most one of organisation_id, site_id and charger_ids").into());
    }
    Ok((concurrency, ratio))
}

/// The organisation the target names (itself or through its site), that site, and the
/// caller's scope of `permission` within it (its whole reach when none is named).
async fn target_scope(
    state: &AppState,
    p: &Principal,
    t: &CampaignTarget,
    permission: Permission,
    action: &str,
) -> Result<(Option<organisation::Model>, Option<i32>, Scope), Error> {
    let (within, site_id) = match (t.organisation_id, t.site_id) {
        (Some(id), _) => (Some(named_organisation(state, p, id, action).await?), None),
        // An invisible site's organisation fails the scope below with the same 404.
        (_, Some(id)) => {
            let Some(site) = state.store.site(id).await? else {
                let target = Target::new(format!("site:{id}"));
                return Err(refused(state, p, action, target, AccessError::NotFound.into())
                    .await
                    .into());
            };
            (
                Some(named_organisation(state, p, site.organisation_id, action).await?),
                Some(id),
            )
        }
        _ => (None, None),
    };
    let scope = match &within {
        Some(org) => p.scope_within(permission, org.into()),
        None => p.scope(permission),
    };
    match scope {
        Ok(scope) => Ok((within, site_id, scope)),
        Err(e) => {
            let target = Target::new("campaign").org(within.as_ref().map_or(0, |o| o.id));
            Err(refused(state, p, action, target, e.into()).await.into())
        }
    }
}

/// The chargers of the scope the target's filters match, at least one and at most
/// [`MAX_CHARGERS`], each of a version the command can be sent to.
async fn target_chargers(
    state: &AppState,
    body: &NewCampaignIn,
    scope: &Scope,
    site_id: Option<i32>,
) -> Result<Vec<entity::charger::Model>, Error> {
    let t = &body.target;
    let filter = ChargerFilter {
        site_id,
        charger_ids: t.charger_ids.clone(),
        vendor: t.vendor.clone(),
        model: t.model.clone(),
        firmware_version: t.firmware_version.clone(),
        ocpp_version: t.ocpp_version.map(|v| v.as_str().to_owned()),
    };
    let chargers = state.store.campaign_chargers(scope, &filter, MAX_CHARGERS + 1).await?;
    if chargers.is_empty() {
        return Err(invalid("target", "matches no charger you may run this command on").into());
    }
    if chargers.len() as u64 > MAX_CHARGERS {
        return Err(invalid("target", format!("matches more than {MAX_CHARGERS} chargers")).into());
    }
    for version in [OcppVersion::V16, OcppVersion::V201] {
        if chargers
            .iter()
            .any(|c| c.ocpp_version.as_deref() == Some(version.as_str()))
        {
            body.command.check(version)?;
        }
    }
    Ok(chargers)
}

/// The deepest organisation every one of `chargers` is in.
async fn common_organisation(
    state: &AppState,
    p: &Principal,
    chargers: &[entity::charger::Model],
    action: &str,
) -> Result<organisation::Model, Error> {
    let mut common: Option<String> = None;
    let mut seen = std::collections::HashSet::new();
    for org_id in chargers.iter().filter_map(|c| c.organisation_id) {
        if !seen.insert(org_id) {
            continue;
        }
        let org = named_organisation(state, p, org_id, action).await?;
        common = Some(match common {
            None => org.path,
            Some(prev) => common_path(&prev, &org.path),
        });
    }
    let id = common
        .as_deref()
        .and_then(|path| path.trim_end_matches('/').rsplit('/').next())
        .and_then(|id| id.parse().ok())
        .ok_or_else(|| Error::Internal("chargers of a campaign without an organisation".into()))?;
    Ok(named_organisation(state, p, id, action).await?)
}

/// The longest path both are below (paths are `/1/4/7/`).
fn common_path(a: &str, b: &str) -> String {
    let mut out = String::from("/");
    for (x, y) in a.split('/').zip(b.split('/')).filter(|(x, _)| !x.is_empty()) {
        if x != y {
            break;
        }
        out.push_str(x);
        out.push('/');
    }
    out
}

/// A campaign the caller may see (the campaign's own permission on its organisation); 404
/// otherwise.
async fn visible(
    state: &AppState,
    p: &Principal,
    id: i32,
    action: &str,
) -> Result<(campaign::Model, CommandProof), Error> {
    let found = state.store.campaign(id).await?;
    let Some(c) = found else {
        let target = Target::new(format!("campaign:{id}"));
        return Err(refused(state, p, action, target, AccessError::NotFound.into())
            .await
            .into());
    };
    let command: CampaignCommand = stored(c.command.clone(), "command")?;
    let org = named_organisation(state, p, c.organisation_id, action).await?;
    let proof = super::gate_command(state, p, &org, command.permission(), action, target_of(&c)).await?;
    Ok((c, proof))
}

/// `GET /api/v1/campaigns`: the campaigns of the caller's subtrees whose command it may run.
pub async fn list(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<CampaignOut>, Error> {
    let action = "campaign.list";
    // Every role with charger security has remote maintenance too.
    let scope = services::list_scope(state, p, Permission::RemoteMaintenance, q, action).await?;
    let store = &state.store;
    let rows = store.campaigns_in(&scope, q.page()?).await?;
    let ids: Vec<i32> = rows.iter().map(|c| c.id).collect();
    let counts = store.campaign_counts(&ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for c in rows {
        let org = store.organisation(c.organisation_id).await?;
        let command: CampaignCommand = stored(c.command.clone(), "command")?;
        if org.is_some_and(|o| p.allows(command.permission(), (&o).into())) {
            let n = counts.get(&c.id);
            out.push(CampaignOut::new(c, n)?);
        }
    }
    Ok(out)
}

/// `GET /api/v1/campaigns/{id}`: the campaign with one page of its chargers.
pub async fn show(state: &AppState, p: &Principal, id: i32, page: Page) -> Result<CampaignOut, Error> {
    let (c, _) = visible(state, p, id, "campaign.read").await?;
    let store = &state.store;
    let counts = store.campaign_counts(&[c.id]).await?;
    let steps = store.campaign_steps(c.id, page).await?;
    let mut out = CampaignOut::new(c, counts.values().next())?;
    out.chargers = Some(steps.into_iter().map(CampaignChargerOut::from).collect());
    Ok(out)
}

/// `POST /api/v1/campaigns/{id}/pause|resume|cancel`; 409 once it has ended.
pub async fn steer(state: &AppState, p: &Principal, id: i32, how: Steer) -> Result<CampaignOut, Error> {
    let action = how.action();
    let (c, proof) = visible(state, p, id, action).await?;
    let steered = state.store.steer_campaign(&proof, &c, how.state()).await?;
    let Some(c) = steered else {
        return Err(services::Error::Conflict(format!("campaign {id} has ended ({})", c.state)).into());
    };
    Audit::new(p, action, target_of(&c)).ok(state).await;
    let counts = state.store.campaign_counts(&[c.id]).await?;
    CampaignOut::new(c, counts.values().next())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_campaign_command_reads_as_the_one_charger_body_with_its_kind() {
        let reset: CampaignCommand = serde_json::from_value(json!({"kind": "reset", "type": "hard"})).unwrap();
        assert!(matches!(reset.step(), Step::Command(Command::Reset(_))));
        let cache: CampaignCommand = serde_json::from_value(json!({"kind": "clear_cache"})).unwrap();
        assert!(matches!(cache.step(), Step::Command(Command::ClearCache(_))));
        assert!(serde_json::from_value::<CampaignCommand>(json!({"kind": "reset", "type": "hard", "x": 1})).is_err());
        assert!(serde_json::from_value::<CampaignCommand>(json!({"kind": "remote_start"})).is_err());
        assert_eq!(
            serde_json::to_value(&reset).unwrap(),
            json!({"kind": "reset", "type": "hard"})
        );
    }

    #[test]
    fn the_common_organisation_is_the_deepest_shared_path() {
        assert_eq!(common_path("/1/4/7/", "/1/4/9/"), "/1/4/");
        assert_eq!(common_path("/1/4/7/", "/1/4/7/"), "/1/4/7/");
        assert_eq!(common_path("/1/4/", "/1/40/"), "/1/");
    }
}
