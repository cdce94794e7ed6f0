//! Reading the audit log, filtered per the matrix (maintenance: own actions only).

use chrono::{DateTime, Utc};
use entity::audit;
use serde::Serialize;
use utoipa::ToSchema;

use super::{ListQuery, Result, list_scope};
use crate::access::{Permission, Principal};
use crate::server::AppState;

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

/// Audit rows the caller may read, newest first.
pub async fn list(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<AuditOut>> {
    let scope = list_scope(state, p, Permission::AuditRead, q, "audit.list").await?;
    Ok(state
        .store
        .audit_in(&scope, q.page()?)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}
