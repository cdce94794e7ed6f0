//! Maintenance tickets and their comments.

use chrono::Utc;
use entity::values::TicketStatus;
use entity::{ticket, ticket_comment};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::scope::{Page, scope_condition};
use super::{Result, Store};
use crate::access::{Authorized, Scope, cap};

/// New or changed ticket fields.
#[derive(Debug, Clone, Default)]
pub struct TicketFields {
    pub charger_id: Option<String>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub status: Option<TicketStatus>,
    /// A ticket a fault opened: when the fault incident began.
    pub fault_since: Option<chrono::DateTime<Utc>>,
}

impl Store {
    /// A ticket by id.
    pub async fn ticket(&self, id: i32) -> Result<Option<ticket::Model>> {
        Ok(ticket::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Tickets in the scope, newest first.
    pub async fn tickets_in(&self, scope: &Scope, page: Page) -> Result<Vec<ticket::Model>> {
        Ok(ticket::Entity::find()
            .filter(scope_condition(scope, ticket::Column::OrganisationId, None, None))
            .order_by_desc(ticket::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// Tickets faults opened under `path`: those not closed yet, and the closed ones about
    /// incidents that began at or after `since` (a person closed them; they stay closed).
    pub async fn fault_tickets_under(&self, path: &str, since: chrono::DateTime<Utc>) -> Result<Vec<ticket::Model>> {
        Ok(ticket::Entity::find()
            .filter(super::scope::in_subtree(ticket::Column::OrganisationId, path))
            .filter(ticket::Column::FaultSince.is_not_null())
            .filter(
                ticket::Column::Status
                    .ne(TicketStatus::Closed)
                    .or(ticket::Column::FaultSince.gte(since)),
            )
            .all(&self.db)
            .await?)
    }

    /// How many tickets in the scope are not closed.
    pub async fn count_open_tickets(&self, scope: &Scope) -> Result<u64> {
        Ok(ticket::Entity::find()
            .filter(scope_condition(scope, ticket::Column::OrganisationId, None, None))
            .filter(ticket::Column::Status.ne(TicketStatus::Closed))
            .count(&self.db)
            .await?)
    }

    /// Opens a ticket in the organisation `auth` was granted on.
    pub async fn create_ticket(
        &self,
        auth: &Authorized<cap::Tickets>,
        created_by: Option<i32>,
        f: TicketFields,
    ) -> Result<ticket::Model> {
        auth.ensure(auth.organisation_id())?;
        let now = Utc::now();
        Ok(ticket::ActiveModel {
            organisation_id: Set(auth.organisation_id()),
            charger_id: Set(f.charger_id),
            title: Set(f.title.unwrap_or_default()),
            body: Set(f.body.unwrap_or_default()),
            status: Set(TicketStatus::Open),
            created_by: Set(created_by),
            created_at: Set(now),
            updated_at: Set(now),
            fault_since: Set(f.fault_since),
            ..Default::default()
        }
        .insert(&self.db)
        .await?)
    }

    /// Changes a ticket's title, body or status.
    pub async fn update_ticket(
        &self,
        auth: &Authorized<cap::Tickets>,
        t: ticket::Model,
        f: TicketFields,
    ) -> Result<ticket::Model> {
        auth.ensure(t.organisation_id)?;
        let mut active: ticket::ActiveModel = t.into();
        if let Some(title) = f.title {
            active.title = Set(title);
        }
        if let Some(body) = f.body {
            active.body = Set(body);
        }
        if let Some(status) = f.status {
            active.status = Set(status);
        }
        active.updated_at = Set(Utc::now());
        Ok(active.update(&self.db).await?)
    }

    /// Adds a comment to a ticket.
    pub async fn add_comment(
        &self,
        auth: &Authorized<cap::Tickets>,
        t: &ticket::Model,
        user_id: Option<i32>,
        body: String,
    ) -> Result<ticket_comment::Model> {
        auth.ensure(t.organisation_id)?;
        Ok(ticket_comment::ActiveModel {
            ticket_id: Set(t.id),
            user_id: Set(user_id),
            body: Set(body),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await?)
    }

    /// A ticket's comments, oldest first.
    pub async fn comments(&self, ticket_id: i32) -> Result<Vec<ticket_comment::Model>> {
        Ok(ticket_comment::Entity::find()
            .filter(ticket_comment::Column::TicketId.eq(ticket_id))
            .order_by_asc(ticket_comment::Column::Id)
            .all(&self.db)
            .await?)
    }
}
