//! A charger's timeline and open faults through the gate: whoever may read the charger reads
//! its timeline; security events also need `SecurityEventsRead` (operators, support, facility
//! managers), and are left out of the timeline of anyone without it.

use chrono::{DateTime, Utc};
use entity::charger_fault;
use entity::values::EventKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::chargers::visible_charger;
use super::{Result, Target, gate_seen};
use crate::access::{Principal, cap};
use crate::state::AppState;
use crate::store::EventFilter;

/// One row of a charger's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub id: i64,
    pub kind: EventKind,
    /// The gist: a firmware status, an error code, a trigger, a security event type, ...
    pub status: String,
    pub at: DateTime<Utc>,
    /// The request id the charger sent (2.0.1 and 1.6 security messages).
    pub request_id: Option<i32>,
    /// The audit row of the command this status follows.
    pub audit_id: Option<i64>,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    /// 2.0.1 component and variable, `name` or `name[instance]`.
    pub component: Option<String>,
    pub variable: Option<String>,
    /// A security event the specs mark critical.
    pub critical: bool,
    /// The rest of what the charger said, in its own field names.
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
}

impl From<entity::charger_event::Model> for EventOut {
    fn from(e: entity::charger_event::Model) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            status: e.status,
            at: e.at,
            request_id: e.request_id,
            audit_id: e.audit_id,
            evse_id: e.evse_id,
            connector_id: e.connector_id,
            component: e.component,
            variable: e.variable,
            critical: e.critical,
            detail: e.detail,
        }
    }
}

/// A problem the charger reported and has not cleared.
#[derive(Debug, Serialize, ToSchema)]
pub struct FaultOut {
    /// 0 for the charger itself.
    pub evse_id: i32,
    /// 0 for the whole EVSE.
    pub connector_id: i32,
    /// `status` (connector status), or the 2.0.1 `component/variable` that reported it.
    pub source: String,
    /// The error code, tech code or variable that names the problem.
    pub code: String,
    pub info: Option<String>,
    pub opened_at: DateTime<Utc>,
    /// The timeline row that reported it last.
    pub event_id: Option<i64>,
}

impl From<charger_fault::Model> for FaultOut {
    fn from(f: charger_fault::Model) -> Self {
        Self {
            evse_id: f.evse_id,
            connector_id: f.connector_id,
            source: f.key,
            code: f.code,
            info: f.info,
            opened_at: f.opened_at,
            event_id: f.event_id,
        }
    }
}

/// `GET /api/v1/chargers/{id}/events` filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only this kind.
    #[param(inline)]
    pub kind: Option<EventKind>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub offset: Option<u64>,
}

/// A charger's timeline, newest first (security events only for those who may read them).
pub async fn events(state: &AppState, p: &Principal, id: &str, q: &EventQuery) -> Result<Vec<EventOut>> {
    let action = "charger.events";
    let (c, org) = visible_charger(state, p, id, action).await?;
    if q.kind == Some(EventKind::Security) {
        return security_events(state, p, id, q).await;
    }
    // Silently: the timeline without them is what the caller may see, no refusal to record.
    let security = p.authorize::<cap::SecurityEventsRead>((&org).into()).ok();
    let filter = EventFilter {
        kinds: q.kind.into_iter().collect(),
        since: q.since,
        until: q.until,
    };
    let rows = state
        .store
        .charger_events(&c.id, &filter, super::page(q.limit, q.offset)?, security.as_ref())
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// A charger's security events, newest first: 404 outside the caller's subtrees, 403 without
/// `SecurityEventsRead`.
pub async fn security_events(state: &AppState, p: &Principal, id: &str, q: &EventQuery) -> Result<Vec<EventOut>> {
    let action = "charger.security_events";
    let (c, org) = visible_charger(state, p, id, action).await?;
    let target = Target::new(format!("charger:{id}")).charger(id).org(org.id);
    let security = gate_seen::<cap::SecurityEventsRead>(state, p, &org, action, target).await?;
    let filter = EventFilter {
        kinds: vec![EventKind::Security],
        since: q.since,
        until: q.until,
    };
    let rows = state
        .store
        .charger_events(&c.id, &filter, super::page(q.limit, q.offset)?, Some(&security))
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
