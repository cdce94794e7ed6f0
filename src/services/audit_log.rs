//! The audit log: writing a row ([`Audit`]) for every write and every refusal, and reading
//! it back filtered per the matrix (maintenance: own actions only).

use chrono::{DateTime, Utc};
use entity::audit;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::{ListQuery, Result, list_scope};
use crate::access::{Permission, Principal};
use crate::state::AppState;
use crate::store::{AuditEntry, AuditFilter};

/// An audit row as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `null` for the platform admin at the CLI.
    pub user_id: Option<i32>,
    pub action: String,
    pub organisation_id: Option<i32>,
    pub charger_id: Option<String>,
    pub resource: Option<String>,
    /// `ok`, `denied`, or a command's outcome.
    pub outcome: String,
    pub detail: Option<String>,
}

impl From<audit::Model> for AuditOut {
    fn from(a: audit::Model) -> Self {
        Self {
            id: a.id,
            at: a.at,
            user_id: a.user_id,
            action: a.action,
            organisation_id: a.organisation_id,
            charger_id: a.charger_id,
            resource: a.resource,
            outcome: a.outcome,
            detail: a.detail,
        }
    }
}

/// `GET /api/v1/audit`
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub offset: Option<u64>,
    /// Only this organisation and its subtree.
    pub organisation_id: Option<i32>,
    /// Only what this user did (a contractor's report).
    pub user_id: Option<i32>,
    /// Only actions starting with this (`command.` for remote commands).
    #[param(max_length = 64)]
    pub action: Option<String>,
}

impl From<ListQuery> for AuditQuery {
    fn from(q: ListQuery) -> Self {
        Self {
            limit: q.limit,
            offset: q.offset,
            organisation_id: q.organisation_id,
            ..Default::default()
        }
    }
}

/// Audit rows the caller may read, newest first.
pub async fn list(state: &AppState, p: &Principal, q: &AuditQuery) -> Result<Vec<AuditOut>> {
    let list = ListQuery {
        limit: q.limit,
        offset: q.offset,
        organisation_id: q.organisation_id,
    };
    let scope = list_scope(state, p, Permission::AuditRead, &list, "audit.list").await?;
    if q.action.as_ref().is_some_and(|a| a.len() > 64) {
        return Err(super::invalid("action", "must be at most 64 characters"));
    }
    let filter = AuditFilter {
        user_id: q.user_id,
        action_prefix: q.action.clone(),
    };
    Ok(state
        .store
        .audit_in(&scope, &filter, list.page()?)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// What an audit row is about.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub organisation_id: Option<i32>,
    pub charger_id: Option<String>,
    pub resource: String,
}

impl Target {
    pub fn new(resource: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            ..Default::default()
        }
    }

    pub fn org(mut self, id: i32) -> Self {
        self.organisation_id = Some(id);
        self
    }

    pub fn charger(mut self, id: &str) -> Self {
        self.charger_id = Some(id.to_owned());
        self
    }
}

/// An audit row about to be written: `Audit::new(p, action, target).request(body).ok(state)`.
/// A failure to audit is logged, never hidden from operators' logs.
#[must_use = "an audit row is written by `ok` or `denied`"]
pub struct Audit<'a> {
    p: &'a Principal,
    action: &'a str,
    target: Target,
    request: Option<Value>,
    detail: Option<String>,
}

impl<'a> Audit<'a> {
    /// A row about `p` doing `action` on `target`.
    pub fn new(p: &'a Principal, action: &'a str, target: Target) -> Self {
        Self {
            p,
            action,
            target,
            request: None,
            detail: None,
        }
    }

    /// What was asked (secrets left out by the caller).
    pub fn request(mut self, request: Value) -> Self {
        self.request = Some(request);
        self
    }

    /// Why, in words.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Writes the row of something done.
    pub async fn ok(self, state: &AppState) {
        self.outcome(state, "ok").await
    }

    /// Writes the row of something refused.
    pub async fn denied(self, state: &AppState) {
        self.outcome(state, "denied").await
    }

    /// Writes the row with another outcome (a command's `offline`, `timeout`, ...).
    pub async fn outcome(self, state: &AppState, outcome: &str) {
        let entry = AuditEntry {
            user_id: self.p.user_id(),
            action: self.action.into(),
            organisation_id: self.target.organisation_id,
            charger_id: self.target.charger_id,
            resource: Some(self.target.resource),
            request: self.request,
            outcome: outcome.into(),
            detail: self.detail,
        };
        if let Err(e) = state.store.record_audit(entry).await {
            tracing::error!(error = %e, action = %self.action, "could not write the audit log");
        }
    }
}
