//! Chargers through the gate, with their live state from the gateway registry.

use chrono::{DateTime, Utc};
use entity::{charger, charger_fault, connector, organisation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::charger_events::FaultOut;
use super::{
    Audit, Error, ListQuery, Result, Target, gate, gate_seen, invalid, list_scope, named_organisation, refused,
};
use crate::access::{AccessError, Authorized, Grant, Permission, Principal, cap};
use crate::crypto;
use crate::ocpp::ChargerId;
use crate::state::AppState;
use crate::store::{ChargerChanges, NewChargerFields};
use entity::values::{PasswordOfferState, RegistrationStatus, SiteKind};

/// One connector's last reported status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectorOut {
    pub evse_id: i32,
    pub connector_id: i32,
    pub status: String,
    pub error_code: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl From<connector::Model> for ConnectorOut {
    fn from(c: connector::Model) -> Self {
        Self {
            evse_id: c.evse_id,
            connector_id: c.connector_id,
            status: c.status,
            error_code: c.error_code,
            updated_at: c.updated_at,
        }
    }
}

/// A charger as the API shows it, with its live state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChargerOut {
    pub id: String,
    pub organisation_id: Option<i32>,
    pub site_id: Option<i32>,
    /// Connected to this node right now.
    pub online: bool,
    pub ocpp_version: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub firmware_version: Option<String>,
    /// Last FirmwareStatusNotification status, and when it came.
    pub firmware_status: Option<String>,
    pub firmware_status_at: Option<DateTime<Utc>>,
    /// Last DiagnosticsStatusNotification (1.6) / LogStatusNotification (2.0.1) status.
    pub diagnostics_status: Option<String>,
    pub diagnostics_status_at: Option<DateTime<Utc>>,
    pub registration_status: RegistrationStatus,
    /// Its own security profile (1 Basic auth, 2 TLS + Basic auth, 3 TLS client certificate);
    /// `null` follows the server's `ocpp.security_profile`.
    pub security_profile: Option<i32>,
    /// A higher profile the charger agreed to and has not yet connected on; until it does,
    /// its current profile still admits it.
    pub security_profile_pending: Option<i32>,
    /// Its own local-list setting; `None` follows its site.
    pub local_list: Option<bool>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// When its password last changed; `null`: not since registration.
    pub password_changed_at: Option<DateTime<Utc>>,
    /// The certificate voltgate's CA issued it and the charger installed (serial, hex), and
    /// when it expires (renewal is asked `ca.renew_before_days` before).
    pub certificate_serial: Option<String>,
    pub certificate_expires_at: Option<DateTime<Utc>>,
    /// Password changes waiting for the charger to connect with its new password (one
    /// charger's view only; lists leave it out). Until then the old password works too.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_changes: Option<Vec<PasswordChangeOut>>,
    pub connectors: Vec<ConnectorOut>,
    /// Problems reported and not cleared; a charger with any counts as faulted.
    pub faults: Vec<FaultOut>,
    /// Only when voltgate generated the charger's password: shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// A new password sent to a charger that has not connected with it yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChangeOut {
    pub offered_at: DateTime<Utc>,
    pub state: PasswordOfferState,
}

/// `POST /api/v1/chargers`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCharger {
    /// Charge point identity, as in `ws://host/ocpp/{id}`.
    pub id: ChargerId,
    pub organisation_id: i32,
    pub site_id: Option<i32>,
    /// HTTP Basic password (security profiles 1 and 2); generated when omitted.
    #[schema(min_length = 16, max_length = 40)]
    pub password: Option<String>,
    /// 1, 2 or 3 (default: the server's `ocpp.security_profile`). Profiles 2 and 3 are
    /// refused on plain `ws://`; profile 3 authenticates by client certificate.
    #[schema(minimum = 1, maximum = 3)]
    pub security_profile: Option<u8>,
    /// Keep a local authorisation list on the charger; omitted follows its site.
    pub local_list: Option<bool>,
}

/// `PATCH /api/v1/chargers/{id}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChargerPatch {
    /// Move the charger to this organisation.
    pub organisation_id: Option<i32>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub site_id: Option<Option<i32>>,
    #[schema(min_length = 16, max_length = 40)]
    pub password: Option<String>,
    /// 1, 2 or 3; `null` goes back to the server's default.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<u8>, minimum = 1, maximum = 3)]
    pub security_profile: Option<Option<u8>>,
    /// Keep a local authorisation list on the charger; `null` follows its site.
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<bool>)]
    pub local_list: Option<Option<bool>>,
}

impl ChargerPatch {
    /// Whether it changes nothing.
    pub fn is_empty(&self) -> bool {
        self.organisation_id.is_none()
            && self.site_id.is_none()
            && self.password.is_none()
            && self.security_profile.is_none()
            && self.local_list.is_none()
    }
}

fn check_profile(profile: Option<u8>) -> Result<()> {
    match profile {
        None | Some(1..=3) => Ok(()),
        Some(_) => Err(invalid("security_profile", "must be 1, 2 or 3")),
    }
}

fn target(id: &str, org: Option<i32>) -> Target {
    let t = Target::new(format!("charger:{id}")).charger(id);
    match org {
        Some(o) => t.org(o),
        None => t,
    }
}

fn out(
    state: &AppState,
    c: charger::Model,
    connectors: Vec<connector::Model>,
    faults: Vec<charger_fault::Model>,
) -> ChargerOut {
    ChargerOut {
        online: state.fleet.is_online(&c.id),
        id: c.id,
        organisation_id: c.organisation_id,
        site_id: c.site_id,
        ocpp_version: c.ocpp_version,
        vendor: c.vendor,
        model: c.model,
        serial: c.serial,
        firmware_version: c.firmware_version,
        firmware_status: c.firmware_status,
        firmware_status_at: c.firmware_status_at,
        diagnostics_status: c.diagnostics_status,
        diagnostics_status_at: c.diagnostics_status_at,
        registration_status: c.registration_status,
        security_profile: c.security_profile,
        security_profile_pending: c.security_profile_pending,
        local_list: c.local_list,
        last_seen_at: c.last_seen_at,
        password_changed_at: c.password_changed_at,
        certificate_serial: c.certificate_serial,
        certificate_expires_at: c.certificate_expires_at,
        password_changes: None,
        connectors: connectors.into_iter().map(Into::into).collect(),
        faults: faults.into_iter().map(Into::into).collect(),
        password: None,
    }
}

/// A charger the caller may see, with its organisation: 404 if it does not exist, is outside
/// the caller's subtrees, or is not at a home site for a caller who sees home chargers only.
/// Unassigned chargers belong, for this purpose, to the root organisation.
pub async fn visible_charger(
    state: &AppState,
    p: &Principal,
    id: &str,
    action: &str,
) -> Result<(charger::Model, organisation::Model)> {
    let not_found = |org| target(id, org);
    let Some(c) = state.store.charger(id).await? else {
        return Err(refused(state, p, action, not_found(None), AccessError::NotFound.into()).await);
    };
    let org = match c.organisation_id {
        Some(org_id) => named_organisation(state, p, org_id, action).await?,
        None => {
            state
                .store
                .ensure_root_organisation(&state.config.bootstrap.root_organisation)
                .await?
        }
    };
    let read = gate::<cap::ChargersRead>(state, p, &org, action, target(id, Some(org.id))).await?;
    if read.grant() == Grant::HomeChargers && !at_home(state, &c).await? {
        return Err(refused(state, p, action, not_found(Some(org.id)), AccessError::NotFound.into()).await);
    }
    Ok((c, org))
}

pub(super) async fn at_home(state: &AppState, c: &charger::Model) -> Result<bool> {
    Ok(match c.site_id {
        Some(site) => state.store.site(site).await?.is_some_and(|s| s.kind == SiteKind::Home),
        None => false,
    })
}

/// A site for a charger in `org`: visible to the caller and owned by `org` or an ancestor.
async fn check_site(
    state: &AppState,
    p: &Principal,
    site_id: i32,
    org: &organisation::Model,
    action: &str,
) -> Result<()> {
    let site = super::sites::visible_site(state, p, site_id, action).await?;
    let site_org = named_organisation(state, p, site.organisation_id, action).await?;
    if !org.path.starts_with(&site_org.path) {
        return Err(invalid("site_id", "the site belongs to another organisation"));
    }
    Ok(())
}

/// Adopting a charger that connected unregistered (`unknown_chargers = pending`) is the
/// tree's decision, not any operator's who guesses its id: it needs the permission on the
/// root. `None` when there is nothing to adopt.
async fn adoption(
    state: &AppState,
    p: &Principal,
    id: &str,
    org: &organisation::Model,
    action: &str,
) -> Result<Option<Authorized<cap::ChargersWrite>>> {
    let unassigned = state
        .store
        .charger(id)
        .await?
        .is_some_and(|c| c.organisation_id.is_none());
    if !unassigned {
        return Ok(None);
    }
    let target = target(id, Some(org.id));
    match state.store.organisation(crate::store::root_of(&org.path)).await? {
        Some(root) => gate_seen::<cap::ChargersWrite>(state, p, &root, action, target)
            .await
            .map(Some),
        None => Err(refused(state, p, action, target, AccessError::Forbidden.into()).await),
    }
}

/// Whether chargers of `org` may be at `site_id` (the site's organisation is `org` or above).
async fn site_within(state: &AppState, site_id: i32, org: &organisation::Model) -> Result<bool> {
    let Some(site) = state.store.site(site_id).await? else {
        return Ok(false);
    };
    let Some(site_org) = state.store.organisation(site.organisation_id).await? else {
        return Ok(false);
    };
    Ok(org.path.starts_with(&site_org.path))
}

/// Who chose a charger password, which decides how it is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    /// voltgate generated it: a random secret, stored with a fast salted hash.
    Generated,
    /// A person gave it: argon2id, as guessable passwords need.
    Chosen,
}

/// The stored hash of a charger password (16 to 40 characters).
pub async fn hash(state: &AppState, password: &str, source: PasswordSource) -> Result<String> {
    // OCPP 2.0.1 A00.FR.205: 16 to 40 characters; long enough for the light hash.
    if !(16..=40).contains(&password.chars().count()) {
        return Err(invalid("password", "must be 16 to 40 characters"));
    }
    match source {
        PasswordSource::Generated => Ok(crypto::hash_generated_secret(password)),
        PasswordSource::Chosen => state
            .hasher
            .hash_charger(password.to_owned(), state.config.ocpp.charger_password_memory_kib)
            .await
            .map_err(Error::Internal),
    }
}

/// `GET /api/v1/chargers` filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChargerQuery {
    /// Only chargers with (`true`) or without (`false`) an open fault.
    pub faulted: Option<bool>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub offset: Option<u64>,
    /// Only this organisation and its subtree.
    pub organisation_id: Option<i32>,
}

impl From<ListQuery> for ChargerQuery {
    fn from(q: ListQuery) -> Self {
        Self {
            faulted: None,
            limit: q.limit,
            offset: q.offset,
            organisation_id: q.organisation_id,
        }
    }
}

/// Chargers the caller may see, with live state.
pub async fn list(state: &AppState, p: &Principal, q: &ChargerQuery) -> Result<Vec<ChargerOut>> {
    let q_list = ListQuery {
        limit: q.limit,
        offset: q.offset,
        organisation_id: q.organisation_id,
    };
    let scope = list_scope(state, p, Permission::ChargersRead, &q_list, "charger.list").await?;
    let chargers = state.store.chargers_in(&scope, q.faulted, q_list.page()?).await?;
    live(state, chargers).await
}

/// Chargers with their connectors and open faults, fetched for all of them at once.
async fn live(state: &AppState, chargers: Vec<charger::Model>) -> Result<Vec<ChargerOut>> {
    let ids: Vec<String> = chargers.iter().map(|c| c.id.clone()).collect();
    let (connectors, faults) = tokio::try_join!(state.store.connectors_of(&ids), state.store.faults_of(&ids))?;
    let mut connectors = by_charger(connectors, |k| &k.charger_id);
    let mut faults = by_charger(faults, |f| &f.charger_id);
    Ok(chargers
        .into_iter()
        .map(|c| {
            let (mine, problems) = (connectors.remove(&c.id), faults.remove(&c.id));
            out(state, c, mine.unwrap_or_default(), problems.unwrap_or_default())
        })
        .collect())
}

fn by_charger<T>(rows: Vec<T>, id: impl Fn(&T) -> &String) -> std::collections::HashMap<String, Vec<T>> {
    let mut map = std::collections::HashMap::<String, Vec<T>>::new();
    for row in rows {
        map.entry(id(&row).clone()).or_default().push(row);
    }
    map
}

/// [`live`] for a single charger.
async fn live_one(state: &AppState, c: charger::Model) -> Result<ChargerOut> {
    let mut shown = live(state, vec![c]).await?;
    Ok(shown.remove(0))
}

/// One charger with live state.
pub async fn get(state: &AppState, p: &Principal, id: &str) -> Result<ChargerOut> {
    let (c, _) = visible_charger(state, p, id, "charger.read").await?;
    let changes = state.store.password_offers(&c.id).await?;
    let mut shown = live_one(state, c).await?;
    shown.password_changes = Some(
        changes
            .into_iter()
            .map(|o| PasswordChangeOut {
                offered_at: o.offered_at,
                state: o.state,
            })
            .collect(),
    );
    Ok(shown)
}

/// Chargers waiting unassigned, for those who may adopt them (charger write on the root);
/// empty for everyone else, quietly: it is a list, not a refusal.
pub async fn unassigned(state: &AppState, p: &Principal, limit: u64) -> Result<Vec<ChargerOut>> {
    let mut waiting = Vec::new();
    for root in state.store.root_organisations().await? {
        if let Ok(auth) = p.authorize::<cap::ChargersWrite>((&root).into()) {
            let rows = state.store.unassigned_chargers(&auth, limit).await?;
            waiting.extend(rows.into_iter().map(|c| out(state, c, Vec::new(), Vec::new())));
        }
    }
    Ok(waiting)
}

/// Registers a charger (or adopts one waiting unassigned).
pub async fn create(state: &AppState, p: &Principal, input: NewCharger) -> Result<ChargerOut> {
    let action = "charger.create";
    let org = named_organisation(state, p, input.organisation_id, action).await?;
    let auth = gate::<cap::ChargersWrite>(state, p, &org, action, target(&input.id, Some(org.id))).await?;
    if let Some(site) = input.site_id {
        check_site(state, p, site, &org, action).await?;
    }
    check_profile(input.security_profile)?;
    let adopt = adoption(state, p, &input.id, &org, action).await?;
    let generated = input.password.is_none().then(|| crypto::random_token(18));
    let (password, source) = match (&input.password, &generated) {
        (Some(chosen), _) => (chosen.as_str(), PasswordSource::Chosen),
        (None, generated) => (generated.as_deref().unwrap_or_default(), PasswordSource::Generated),
    };
    let fields = NewChargerFields {
        site_id: input.site_id,
        password_hash: Some(hash(state, password, source).await?),
        security_profile: input.security_profile,
        local_list: input.local_list,
    };
    let c = state
        .store
        .create_charger(&auth, &input.id, fields, adopt.as_ref())
        .await?;
    let request = json!({"id": input.id, "organisation_id": input.organisation_id, "site_id": input.site_id,
        "security_profile": input.security_profile, "local_list": input.local_list});
    Audit::new(p, action, target(&c.id, Some(org.id)))
        .request(request)
        .ok(state)
        .await;
    state.live.changed(&c.id);
    let mut created = out(state, c, Vec::new(), Vec::new());
    created.password = generated;
    Ok(created)
}

/// Moves a charger, changes its site or its password.
pub async fn update(state: &AppState, p: &Principal, id: &str, patch: ChargerPatch) -> Result<ChargerOut> {
    let action = "charger.update";
    let (c, org, auth) = writable_charger(state, p, id, action).await?;
    let mut dest: Option<(organisation::Model, Authorized<cap::ChargersWrite>)> = None;
    if let Some(to) = patch.organisation_id {
        let to_org = named_organisation(state, p, to, action).await?;
        let to_auth = gate::<cap::ChargersWrite>(state, p, &to_org, action, target(id, Some(to))).await?;
        dest = Some((to_org, to_auth));
    }
    let final_org = dest.as_ref().map_or(&org, |(o, _)| o);
    if let Some(Some(site)) = patch.site_id {
        check_site(state, p, site, final_org, action).await?;
    }
    let password_hash = match patch.password.as_deref() {
        Some(p) => Some(hash(state, p, PasswordSource::Chosen).await?),
        None => None,
    };
    if let Some(profile) = patch.security_profile {
        check_profile(profile)?;
    }
    // A charger moved without naming a site leaves a site its new organisation cannot have.
    let site_id = match (patch.site_id, &dest, c.site_id) {
        (None, Some((to, _)), Some(site)) if !site_within(state, site, to).await? => Some(None),
        (given, _, _) => given,
    };
    let changes = ChargerChanges {
        move_to: dest.as_ref().map(|(_, a)| a),
        site_id,
        password_hash,
        security_profile: patch.security_profile,
        local_list: patch.local_list,
    };
    let c = state.store.update_charger(&auth, c, changes).await?;
    state.live.changed(id);
    if patch.security_profile.is_some() {
        // A stricter profile applies now, not at the charger's next reconnect.
        state.fleet.disconnect(&auth, origin(p), id).await;
    }
    let request = json!({"organisation_id": patch.organisation_id, "site_id": patch.site_id,
        "password_changed": patch.password.is_some(), "security_profile": patch.security_profile,
        "local_list": patch.local_list});
    Audit::new(p, action, target(id, Some(org.id)))
        .request(request)
        .ok(state)
        .await;
    live_one(state, c).await
}

/// A charger the caller may change: visible (else 404) and `ChargersWrite` on its organisation
/// (else 403).
async fn writable_charger(
    state: &AppState,
    p: &Principal,
    id: &str,
    action: &str,
) -> Result<(charger::Model, organisation::Model, Authorized<cap::ChargersWrite>)> {
    let (c, org) = visible_charger(state, p, id, action).await?;
    let auth = gate::<cap::ChargersWrite>(state, p, &org, action, target(id, Some(org.id))).await?;
    Ok((c, org, auth))
}

/// Who asks, when the charger is on another node.
fn origin(p: &Principal) -> crate::cluster::Origin {
    crate::cluster::Origin {
        user_id: p.user_id(),
        audit_id: None,
    }
}

/// Deletes a charger and closes its connection.
pub async fn delete(state: &AppState, p: &Principal, id: &str) -> Result<()> {
    let action = "charger.delete";
    let (c, org, auth) = writable_charger(state, p, id, action).await?;
    state.store.delete_charger(&auth, &c).await?;
    state.live.changed(id);
    state.fleet.disconnect(&auth, origin(p), id).await;
    Audit::new(p, action, target(id, Some(org.id))).ok(state).await;
    Ok(())
}
