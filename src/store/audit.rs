//! The audit log: every write and every refused attempt.

use chrono::Utc;
use entity::audit;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::scope::{Page, scope_condition};
use super::{Result, Store};
use crate::access::{Grant, Scope};

/// One audit row to write.
#[derive(Debug, Clone, Default)]
pub struct AuditEntry {
    pub user_id: Option<i32>,
    pub action: String,
    pub organisation_id: Option<i32>,
    pub charger_id: Option<String>,
    pub resource: Option<String>,
    pub request: Option<Value>,
    pub outcome: String,
    pub detail: Option<String>,
}

impl AuditEntry {
    /// The row to insert, stamped now (for writes that put it in their own transaction).
    pub(super) fn into_row(self) -> audit::ActiveModel {
        audit::ActiveModel {
            at: Set(Utc::now()),
            user_id: Set(self.user_id),
            action: Set(self.action),
            organisation_id: Set(self.organisation_id),
            charger_id: Set(self.charger_id),
            resource: Set(self.resource),
            request: Set(self.request),
            outcome: Set(self.outcome),
            detail: Set(self.detail),
            ..Default::default()
        }
    }
}

/// What an audit read is narrowed to, within the scope.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user_id: Option<i32>,
    pub action_prefix: Option<String>,
}

impl Store {
    /// Appends a row; returns its id.
    pub async fn record_audit(&self, e: AuditEntry) -> Result<i64> {
        Ok(e.into_row().insert(&self.db).await?.id)
    }

    /// The id token a remote start sent to `charger_id`, by the audit row the 2.0.1
    /// `remoteStartId` names (commands use their audit row's id as the request id).
    pub async fn remote_start_token(&self, charger_id: &str, audit_id: i64) -> Result<Option<String>> {
        let row = audit::Entity::find_by_id(audit_id)
            .filter(audit::Column::ChargerId.eq(charger_id))
            .filter(audit::Column::Action.eq("command.remote_start"))
            .one(&self.db)
            .await?;
        Ok(row
            .and_then(|r| r.request)
            .and_then(|request| request.get("id_token")?.as_str().map(str::to_owned)))
    }

    /// Marks commands still `pending` that started before `cutoff` as `interrupted`: the node
    /// that sent them stopped (or was killed) before the charger's answer came back. Returns
    /// how many.
    pub async fn interrupt_pending_commands(&self, cutoff: chrono::DateTime<chrono::Utc>) -> Result<u64> {
        let done = audit::Entity::update_many()
            .set(audit::ActiveModel {
                outcome: Set("interrupted".to_owned()),
                detail: Set(Some("the node stopped before the charger answered".to_owned())),
                ..Default::default()
            })
            .filter(audit::Column::Outcome.eq("pending"))
            .filter(audit::Column::At.lt(cutoff))
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected)
    }

    /// Sets the outcome of a row written as `pending` (a command's answer).
    pub async fn finish_audit(&self, id: i64, outcome: &str, detail: Option<String>) -> Result<()> {
        audit::Entity::update_many()
            .set(audit::ActiveModel {
                outcome: Set(outcome.to_owned()),
                detail: Set(detail),
                ..Default::default()
            })
            .filter(audit::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Audit rows in the scope, newest first.
    pub async fn audit_in(&self, scope: &Scope, filter: &AuditFilter, page: Page) -> Result<Vec<audit::Model>> {
        let mut query = audit::Entity::find().filter(audit_condition(scope));
        if let Some(user) = filter.user_id {
            query = query.filter(audit::Column::UserId.eq(user));
        }
        if let Some(prefix) = &filter.action_prefix {
            query = query.filter(audit::Column::Action.starts_with(prefix.as_str()));
        }
        Ok(query
            .order_by_desc(audit::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// The latest remote commands (`command.*` rows) in the scope, newest first.
    pub async fn recent_commands(&self, scope: &Scope, limit: u64) -> Result<Vec<audit::Model>> {
        Ok(audit::Entity::find()
            .filter(audit_condition(scope))
            .filter(audit::Column::Action.starts_with("command."))
            .order_by_desc(audit::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}

/// Audit rows a scope may read. Rows that name no organisation (logins, probes of ids that do
/// not exist) are visible to whoever reads the whole log on a root, and to the user they are
/// about.
fn audit_condition(scope: &Scope) -> Condition {
    let mut cond = Condition::any().add(scope_condition(
        scope,
        audit::Column::OrganisationId,
        None,
        Some(audit::Column::UserId),
    ));
    if scope.root_grant() == Some(Grant::Full) {
        cond = cond.add(audit::Column::OrganisationId.is_null());
    } else if let Some(me) = scope.user_id() {
        cond = cond.add(
            Condition::all()
                .add(audit::Column::OrganisationId.is_null())
                .add(audit::Column::UserId.eq(me)),
        );
    }
    cond
}
