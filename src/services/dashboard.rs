//! `GET /api/v1/dashboard`: a summary shaped by what the caller may see. Each section is
//! computed over the caller's scope of the permission behind it and left out (absent, not
//! empty) where that permission is held nowhere, so a maintenance engineer's dashboard says
//! nothing about drivers, tokens, access rules or money.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::transactions;
use super::{Result, Target, named_organisation, refused};
use crate::access::{Grant, Permission, Principal, Scope, grant};
use crate::state::AppState;

/// How many remote actions the dashboard lists.
const RECENT_ACTIONS: u64 = 10;

/// How many firmware updates in progress the dashboard lists.
const FIRMWARE_LIST: u64 = 50;

/// Memberships ending within this many days are listed as expiring soon.
const EXPIRING_WITHIN_DAYS: i64 = 7;

/// Firmware statuses of both versions that mean an update is still under way.
const FIRMWARE_IN_PROGRESS: [&str; 8] = [
    "Downloading",
    "Downloaded",
    "DownloadScheduled",
    "DownloadPaused",
    "Installing",
    "InstallScheduled",
    "InstallRebooting",
    "SignatureVerified",
];

/// `?organisation_id=`: the dashboard of one subtree.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// Only this organisation and its subtree.
    pub organisation_id: Option<i32>,
}

/// The dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    /// `full` (operators, facility and fleet managers) or `simplified` (support, maintenance).
    pub view: &'static str,
    pub chargers: ChargerCounts,
    /// Connectors by their last reported status (`Available`, `Charging`, `Faulted`, ...).
    pub connectors: BTreeMap<String, u64>,
    /// Firmware updates under way, newest status first (at most 50).
    pub firmware_updates: Vec<FirmwareProgress>,
    /// Tickets not closed; absent without the tickets permission.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_tickets: Option<u64>,
    /// The last remote actions and their outcomes; absent without audit access (maintenance:
    /// its own).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recent_actions: Option<Vec<RecentAction>>,
    /// Sessions started today (UTC); only on the full dashboard with charging-log access.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub today: Option<Today>,
    /// Memberships in the caller's operator subtrees ending within the next 7 days, soonest
    /// first (operators only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiring_grants: Option<Vec<ExpiringGrant>>,
}

/// A membership whose window ends soon.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpiringGrant {
    pub user_id: i32,
    pub username: String,
    pub organisation_id: i32,
    pub role: String,
    pub valid_until: DateTime<Utc>,
}

/// Chargers the caller may see, by live state.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct ChargerCounts {
    /// Chargers in reach.
    pub total: u64,
    /// Connected now (to any node).
    pub online: u64,
    /// Not connected.
    pub offline: u64,
    /// Chargers with at least one connector reporting `Faulted`.
    pub faulted: u64,
}

/// A charger whose firmware update is under way.
#[derive(Debug, Serialize, ToSchema)]
pub struct FirmwareProgress {
    pub charger_id: String,
    /// The last FirmwareStatusNotification status.
    pub status: String,
    /// When it was reported.
    pub at: Option<DateTime<Utc>>,
}

/// One remote command from the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecentAction {
    /// The audit row.
    pub id: i64,
    pub at: DateTime<Utc>,
    /// Who sent it (`null`: the platform admin at the CLI).
    pub user_id: Option<i32>,
    /// `command.reset`, `command.unlock`, ...
    pub action: String,
    pub charger_id: Option<String>,
    /// The charger's answer (`Accepted`, ...), `pending`, `denied`, `timeout`, ...
    pub outcome: String,
}

/// Today's charging.
#[derive(Debug, Serialize, ToSchema)]
pub struct Today {
    /// Sessions started since 00:00 UTC.
    pub sessions: u64,
    /// Energy of today's finished sessions.
    pub energy_wh: i64,
    /// Revenue per currency; only for roles that see billing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<BTreeMap<String, f64>>)]
    pub revenue: Option<BTreeMap<String, Decimal>>,
}

/// The caller's dashboard, over its whole reach or the subtree of `q.organisation_id`.
pub async fn get(state: &AppState, p: &Principal, q: &DashboardQuery) -> Result<Dashboard> {
    let action = "dashboard.read";
    let within = match q.organisation_id {
        Some(id) => Some(named_organisation(state, p, id, action).await?),
        None => None,
    };
    let scope_of = |who: &Principal, permission| match &within {
        Some(org) => who.scope_within(permission, org.into()),
        None => who.scope(permission),
    };
    let dashboard = match scope_of(p, Permission::Dashboard) {
        Ok(s) => s,
        Err(e) => {
            let target = Target {
                organisation_id: q.organisation_id,
                ..Target::new("dashboard")
            };
            return Err(refused(state, p, action, target, e.into()).await);
        }
    };
    let full = dashboard.entries().iter().any(|(_, g)| *g == Grant::Full);
    // A section whose permission is held nowhere in reach is left out; that is the design,
    // not a refusal, so it is not audited.
    let scope = |permission| scope_of(p, permission).ok();

    // Today's charging belongs to the full dashboard: only the roles that have it count.
    let full_view = p.only(|m| grant(m.role, Permission::Dashboard) == Some(Grant::Full));
    // Independent sections, read side by side on the pool.
    let (charger_parts, open_tickets, recent_actions, today, expiring_grants) = tokio::try_join!(
        async {
            match scope(Permission::ChargersRead) {
                Some(s) => charger_sections(state, &s).await,
                None => Ok(Default::default()),
            }
        },
        async {
            match scope(Permission::Tickets) {
                Some(s) => Ok(Some(state.store.count_open_tickets(&s).await?)),
                None => Ok(None),
            }
        },
        async {
            match scope(Permission::AuditRead) {
                Some(s) => recent_actions(state, &s).await.map(Some),
                None => Ok(None),
            }
        },
        async {
            match scope_of(&full_view, Permission::TransactionsRead) {
                Ok(s) => {
                    let billing = scope_of(&full_view, Permission::Billing).is_ok();
                    today(state, &full_view, &s, billing).await.map(Some)
                }
                Err(_) => Ok(None),
            }
        },
        async {
            match scope(Permission::UsersManage) {
                Some(s) => expiring_grants(state, &s).await.map(Some),
                None => Ok(None),
            }
        },
    )?;
    let (chargers, connectors, firmware_updates) = charger_parts;
    Ok(Dashboard {
        expiring_grants,
        view: if full { "full" } else { "simplified" },
        chargers,
        connectors,
        firmware_updates,
        open_tickets,
        recent_actions,
        today,
    })
}

async fn recent_actions(state: &AppState, scope: &Scope) -> Result<Vec<RecentAction>> {
    Ok(state
        .store
        .recent_commands(scope, RECENT_ACTIONS)
        .await?
        .into_iter()
        .map(|a| RecentAction {
            id: a.id,
            at: a.at,
            user_id: a.user_id,
            action: a.action,
            charger_id: a.charger_id,
            outcome: a.outcome,
        })
        .collect())
}

async fn expiring_grants(state: &AppState, scope: &Scope) -> Result<Vec<ExpiringGrant>> {
    let soon = Utc::now() + chrono::Duration::days(EXPIRING_WITHIN_DAYS);
    Ok(state
        .store
        .memberships_ending(scope, soon, RECENT_ACTIONS)
        .await?
        .into_iter()
        .filter_map(|(m, u)| {
            Some(ExpiringGrant {
                user_id: m.user_id,
                username: u?.username,
                organisation_id: m.organisation_id,
                role: m.role,
                valid_until: m.valid_until?,
            })
        })
        .collect())
}

async fn charger_sections(
    state: &AppState,
    scope: &Scope,
) -> Result<(ChargerCounts, BTreeMap<String, u64>, Vec<FirmwareProgress>)> {
    // Independent: run them side by side on the pool.
    let (counts, firmware) = tokio::try_join!(charger_counts(state, scope), async {
        Ok(state
            .store
            .firmware_status_in(scope, &FIRMWARE_IN_PROGRESS, FIRMWARE_LIST)
            .await?)
    },)?;
    let (chargers, connectors) = counts;
    let firmware = firmware
        .into_iter()
        .filter_map(|(charger_id, status, at)| {
            Some(FirmwareProgress {
                charger_id,
                status: status?,
                at,
            })
        })
        .collect();
    Ok((chargers, connectors, firmware))
}

/// Chargers and connectors in the scope: summed from the tally, or counted in the database
/// where the tally cannot answer (not built yet, or a scope of home chargers only).
async fn charger_counts(state: &AppState, scope: &Scope) -> Result<(ChargerCounts, BTreeMap<String, u64>)> {
    if let Some(t) = state.tally.within(&state.store, scope).await? {
        let counts = ChargerCounts {
            total: t.chargers,
            online: t.online,
            offline: t.chargers.saturating_sub(t.online),
            faulted: t.faulted,
        };
        let connectors = t.connectors.into_iter().map(|(s, n)| (s.to_string(), n)).collect();
        return Ok((counts, connectors));
    }
    let (ids, connectors, faulted) = tokio::try_join!(
        state.store.charger_ids_in(scope),
        state.store.connector_counts_in(scope),
        state.store.faulted_in(scope),
    )?;
    let total = ids.len() as u64;
    let online = ids.iter().filter(|id| state.fleet.is_online(id)).count() as u64;
    let connectors = connectors
        .into_iter()
        .map(|(status, n)| (status, n.max(0) as u64))
        .collect();
    let counts = ChargerCounts {
        total,
        online,
        offline: total - online,
        faulted,
    };
    Ok((counts, connectors))
}

async fn today(state: &AppState, p: &Principal, scope: &Scope, billing: bool) -> Result<Today> {
    let midnight = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or_else(Utc::now);
    let rows = state.store.transaction_meters_since(scope, midnight).await?;
    let mut prices: HashMap<i32, Option<(f64, String)>> = HashMap::new();
    let mut revenue: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut energy_wh: i64 = 0;
    for (org, start, stop) in &rows {
        let Some(wh) = transactions::energy_wh(*start, *stop) else {
            continue;
        };
        energy_wh = energy_wh.saturating_add(wh);
        let Some(org) = org.filter(|_| billing) else {
            continue;
        };
        if let Entry::Vacant(slot) = prices.entry(org) {
            slot.insert(transactions::billing_price(state, p, org).await?);
        }
        if let Some(Some((per_kwh, currency))) = prices.get(&org) {
            // Summed as the charging log shows each row: rounded to cents.
            let sum = revenue.entry(currency.clone()).or_default();
            *sum = sum.saturating_add(transactions::cost(wh, *per_kwh).unwrap_or(Decimal::MAX));
        }
    }
    Ok(Today {
        sessions: rows.len() as u64,
        energy_wh,
        revenue: billing.then_some(revenue),
    })
}
