//! Maintenance tickets through the gate.

use chrono::{DateTime, Utc};
use entity::{ticket, ticket_comment};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Audit, ListQuery, Result, Target, gate, invalid, list_scope, named_organisation, refused};
use crate::access::{AccessError, Authorized, Permission, Principal, cap};
use crate::state::AppState;
use crate::store::TicketFields;
use entity::values::TicketStatus;

/// A ticket as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketOut {
    pub id: i32,
    pub organisation_id: i32,
    pub charger_id: Option<String>,
    pub title: String,
    pub body: String,
    /// `open`, `in_progress` or `closed`.
    pub status: TicketStatus,
    pub created_by: Option<i32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// For a ticket a fault opened (the organisation's `auto_tickets`): when the fault began.
    /// The fault clearing closes it.
    pub fault_since: Option<DateTime<Utc>>,
    /// Present on single-ticket answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<CommentOut>>,
}

impl From<ticket::Model> for TicketOut {
    fn from(t: ticket::Model) -> Self {
        Self {
            id: t.id,
            organisation_id: t.organisation_id,
            charger_id: t.charger_id,
            title: t.title,
            body: t.body,
            status: t.status,
            created_by: t.created_by,
            created_at: t.created_at,
            updated_at: t.updated_at,
            fault_since: t.fault_since,
            comments: None,
        }
    }
}

/// A comment on a ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct CommentOut {
    pub id: i32,
    pub user_id: Option<i32>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl From<ticket_comment::Model> for CommentOut {
    fn from(c: ticket_comment::Model) -> Self {
        Self {
            id: c.id,
            user_id: c.user_id,
            body: c.body,
            created_at: c.created_at,
        }
    }
}

/// `POST /api/v1/tickets`
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    pub organisation_id: i32,
    pub charger_id: Option<String>,
    #[schema(min_length = 1, pattern = r"\S")]
    pub title: String,
    #[serde(default)]
    pub body: String,
}

/// `PATCH /api/v1/tickets/{id}`
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketPatch {
    #[schema(min_length = 1, pattern = r"\S")]
    pub title: Option<String>,
    pub body: Option<String>,
    pub status: Option<TicketStatus>,
}

/// `POST /api/v1/tickets/{id}/comments`
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schema(min_length = 1, pattern = r"\S")]
    pub body: String,
}

fn target(t: &ticket::Model) -> Target {
    let base = Target::new(format!("ticket:{}", t.id)).org(t.organisation_id);
    match &t.charger_id {
        Some(c) => base.charger(c),
        None => base,
    }
}

async fn visible_ticket(
    state: &AppState,
    p: &Principal,
    id: i32,
    action: &str,
) -> Result<(ticket::Model, Authorized<cap::Tickets>)> {
    let Some(t) = state.store.ticket(id).await? else {
        return Err(refused(
            state,
            p,
            action,
            Target::new(format!("ticket:{id}")),
            AccessError::NotFound.into(),
        )
        .await);
    };
    let org = named_organisation(state, p, t.organisation_id, action).await?;
    let auth = gate::<cap::Tickets>(state, p, &org, action, target(&t)).await?;
    Ok((t, auth))
}

/// Tickets the caller may see, newest first.
pub async fn list(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<TicketOut>> {
    let scope = list_scope(state, p, Permission::Tickets, q, "ticket.list").await?;
    Ok(state
        .store
        .tickets_in(&scope, q.page()?)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// One ticket with its comments.
pub async fn get(state: &AppState, p: &Principal, id: i32) -> Result<TicketOut> {
    let (t, _) = visible_ticket(state, p, id, "ticket.read").await?;
    let comments = state.store.comments(t.id).await?;
    let mut out = TicketOut::from(t);
    out.comments = Some(comments.into_iter().map(Into::into).collect());
    Ok(out)
}

/// Opens a ticket, optionally about a charger of the same subtree.
pub async fn create(state: &AppState, p: &Principal, input: NewTicket) -> Result<TicketOut> {
    let action = "ticket.create";
    if input.title.trim().is_empty() {
        return Err(invalid("title", "must not be empty"));
    }
    let org = named_organisation(state, p, input.organisation_id, action).await?;
    let auth = gate::<cap::Tickets>(state, p, &org, action, Target::new("ticket").org(org.id)).await?;
    if let Some(charger_id) = &input.charger_id {
        let (_, charger_org) = super::chargers::visible_charger(state, p, charger_id, action).await?;
        if !charger_org.path.starts_with(&org.path) {
            return Err(invalid(
                "charger_id",
                "the charger is not in this organisation's subtree",
            ));
        }
    }
    let fields = TicketFields {
        charger_id: input.charger_id.clone(),
        title: Some(input.title.trim().to_owned()),
        body: Some(input.body.clone()),
        status: None,
        fault_since: None,
    };
    let t = state.store.create_ticket(&auth, p.user_id(), fields).await?;
    Audit::new(p, action, target(&t)).request(json!(input)).ok(state).await;
    Ok(t.into())
}

/// Changes a ticket's title, body or status.
pub async fn update(state: &AppState, p: &Principal, id: i32, patch: TicketPatch) -> Result<TicketOut> {
    let action = "ticket.update";
    super::non_blank("title", patch.title.as_deref())?;
    let (t, auth) = visible_ticket(state, p, id, action).await?;
    let fields = TicketFields {
        charger_id: None,
        title: patch.title.clone(),
        body: patch.body.clone(),
        status: patch.status,
        fault_since: None,
    };
    let t = state.store.update_ticket(&auth, t, fields).await?;
    Audit::new(p, action, target(&t)).request(json!(patch)).ok(state).await;
    Ok(t.into())
}

/// Comments on a ticket.
pub async fn comment(state: &AppState, p: &Principal, id: i32, input: NewComment) -> Result<CommentOut> {
    let action = "ticket.comment";
    if input.body.trim().is_empty() {
        return Err(invalid("body", "must not be empty"));
    }
    let (t, auth) = visible_ticket(state, p, id, action).await?;
    let c = state
        .store
        .add_comment(&auth, &t, p.user_id(), input.body.clone())
        .await?;
    Audit::new(p, action, target(&t)).ok(state).await;
    Ok(c.into())
}
