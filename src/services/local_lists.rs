//! What the local lists look like from the back office: a charger's list state, and how far
//! a token's latest state has reached. Reading follows token read (drivers: read); forcing a
//! sync is a command (`commands::local_list::force`).

use chrono::{DateTime, Utc};
use entity::charger_local_list as row;
use entity::values::{LocalListState, SiteKind};
use entity::{charger, local_list_place};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Result, gate, owned};
use crate::access::{Grant, OrgRef, Permission, Principal, cap};
use crate::state::AppState;
use crate::store::{Place, keeps_list};

/// `GET /chargers/{id}/local-list`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocalListOut {
    /// Whether the charger keeps a list (its own setting, else its site's).
    pub enabled: bool,
    pub state: LocalListState,
    /// Whether the charger has a local list at all; `null` until it was asked.
    pub supported: Option<bool>,
    /// The list version the charger accepted last.
    pub version: i32,
    /// Entries the charger holds.
    pub entries: i32,
    /// Entries still to be sent (the whole list when a full sync is due).
    pub pending_changes: u64,
    pub full_sync_pending: bool,
    pub synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// A token it may have cached was blocked or removed and the cache clear is still due.
    pub clear_cache_pending: bool,
    pub cache_cleared_at: Option<DateTime<Utc>>,
    /// What the charger said it can take: entries per message, bytes per message, entries.
    pub items_per_message: Option<i32>,
    pub bytes_per_message: Option<i32>,
    pub max_entries: Option<i32>,
}

/// The local-list state of a charger the caller may read tokens of (404 outside its
/// subtrees, 403 without drivers: read).
pub async fn get(state: &AppState, p: &Principal, charger_id: &str) -> Result<LocalListOut> {
    let action = "charger.local_list.read";
    let (c, org) = super::chargers::visible_charger(state, p, charger_id, action).await?;
    let target = super::Target::new(format!("charger:{charger_id}")).charger(charger_id);
    gate::<cap::DriversRead>(state, p, &org, action, target).await?;
    shown(state, &c).await
}

/// [`get`] without the gate, for answers that passed another one (a forced sync).
pub async fn shown(state: &AppState, c: &charger::Model) -> Result<LocalListOut> {
    let store = &state.store;
    let site = match c.site_id {
        Some(id) => store.site(id).await?,
        None => None,
    };
    let enabled = keeps_list(c, site.as_ref());
    let r = store.charger_local_list(&c.id).await?;
    let place = match (enabled, store.place_of(c).await?) {
        (true, Some(place)) => find_place(state, &place).await?,
        _ => None,
    };
    let pending_changes = match (&r, &place) {
        (Some(r), Some(place)) if r.place_id == Some(place.id) && !r.full_pending => {
            store.count_local_list_changes(place.id, Some(r.place_version)).await?
        }
        (_, Some(place)) => u64::try_from(place.entries).unwrap_or_default(),
        (_, None) => 0,
    };
    let state_now = match &r {
        Some(r) => r.state,
        None if enabled => LocalListState::Pending,
        None => LocalListState::Off,
    };
    let r = r.unwrap_or_else(|| empty_row(&c.id));
    Ok(LocalListOut {
        enabled,
        state: state_now,
        supported: r.supported,
        version: r.list_version,
        entries: r.entries,
        pending_changes,
        full_sync_pending: r.full_pending || (enabled && r.place_id != place.as_ref().map(|p| p.id)),
        synced_at: r.synced_at,
        last_error: r.last_error,
        clear_cache_pending: r.clear_cache_pending,
        cache_cleared_at: r.cache_cleared_at,
        items_per_message: r.items_per_message,
        bytes_per_message: r.bytes_per_message,
        max_entries: r.max_entries,
    })
}

async fn find_place(state: &AppState, place: &Place) -> Result<Option<local_list_place::Model>> {
    let key = place.key();
    Ok(state
        .store
        .local_list_places(place.root_id)
        .await?
        .into_iter()
        .find(|p| p.key == key))
}

fn empty_row(charger_id: &str) -> row::Model {
    row::Model {
        charger_id: charger_id.to_owned(),
        place_id: None,
        place_version: 0,
        list_version: 0,
        entries: 0,
        supported: None,
        items_per_message: None,
        bytes_per_message: None,
        max_entries: None,
        state: LocalListState::Off,
        last_error: None,
        synced_at: None,
        full_pending: false,
        clear_cache_pending: false,
        cache_cleared_at: None,
        marks: 0,
    }
}

/// Why a charger does not hold a token's latest state yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PendingReason {
    /// Not connected: it gets the change when it is back.
    Offline,
    /// Connected; the change is on its way.
    Waiting,
    /// It refused or failed the update.
    Failed,
    /// It has no local list.
    Unsupported,
    /// The list is longer than it can hold.
    TooLarge,
}

impl std::fmt::Display for PendingReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PendingReason::Offline => "offline",
            PendingReason::Waiting => "waiting",
            PendingReason::Failed => "failed",
            PendingReason::Unsupported => "unsupported",
            PendingReason::TooLarge => "too_large",
        })
    }
}

/// A charger that does not hold a token's latest state yet.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingCharger {
    pub charger_id: String,
    pub reason: PendingReason,
    pub last_error: Option<String>,
}

/// `GET /id-tokens/{id}/sync`: how far the token's latest state has reached, over the
/// chargers the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenSyncOut {
    pub token_id: i32,
    /// Chargers whose local list holds the token's latest state.
    pub applied: usize,
    /// Chargers whose list does not yet.
    pub pending: Vec<PendingCharger>,
    /// Chargers of the token's tree still to clear their authorisation cache.
    pub cache_clear_pending: Vec<String>,
}

/// Where a token's latest state is applied (drivers: read on the token).
pub async fn token_sync(state: &AppState, p: &Principal, id: i32) -> Result<TokenSyncOut> {
    let found = state.store.id_token(id).await?;
    let (t, _) = owned::<cap::DriversRead, _>(state, p, found, id, "id_token.sync").await?;
    let store = &state.store;
    let entries = store.local_list_entries_for(t.root_id, &t.token).await?;
    let members = store.chargers_of_tree(t.root_id).await?;
    let ids: Vec<String> = members.iter().map(|(c, _, _)| c.id.clone()).collect();
    let rows = store.charger_local_lists(&ids).await?;
    let mut out = TokenSyncOut {
        token_id: t.id,
        applied: 0,
        pending: Vec::new(),
        cache_clear_pending: Vec::new(),
    };
    for (c, place, site) in &members {
        if !may_see(p, place, site.as_ref().map(|s| s.kind)) {
            continue;
        }
        let r = rows.get(&c.id);
        if r.is_some_and(|r| r.clear_cache_pending) {
            out.cache_clear_pending.push(c.id.clone());
        }
        if !keeps_list(c, site.as_ref()) {
            continue;
        }
        let key = place.key();
        let Some((stored, entry)) = entries.iter().find(|(pl, _)| pl.key == key) else {
            continue;
        };
        let applied =
            r.is_some_and(|r| r.place_id == Some(stored.id) && r.place_version >= entry.version && !r.full_pending);
        if applied {
            out.applied += 1;
            continue;
        }
        let reason = match r.map(|r| r.state) {
            Some(LocalListState::Failed) => PendingReason::Failed,
            Some(LocalListState::Unsupported) => PendingReason::Unsupported,
            Some(LocalListState::TooLarge) => PendingReason::TooLarge,
            _ if !state.fleet.is_online(&c.id) => PendingReason::Offline,
            _ => PendingReason::Waiting,
        };
        out.pending.push(PendingCharger {
            charger_id: c.id.clone(),
            reason,
            last_error: r.and_then(|r| r.last_error.clone()),
        });
    }
    Ok(out)
}

/// Whether the caller may read a charger at `place` (home chargers only where that is the
/// grant).
fn may_see(p: &Principal, place: &Place, site: Option<SiteKind>) -> bool {
    let path = format!(
        "/{}/",
        place.ancestors.iter().map(i32::to_string).collect::<Vec<_>>().join("/")
    );
    let org = OrgRef {
        id: place.organisation_id,
        path: &path,
    };
    match p.grant_on(Permission::ChargersRead, org) {
        Some(Grant::HomeChargers) => site == Some(SiteKind::Home),
        Some(_) => true,
        None => false,
    }
}
