//! Maintenance tickets: the list and a form to open one.

use axum::extract::{Query, State};
use maud::html;
use serde::Deserialize;

use super::{Paging, after_form, optional};
use crate::access::Permission;
use crate::console::layout::{badge, charger_href, csrf_input, empty, page, when};
use crate::console::session::{Submitted, Viewer};
use crate::console::{PageResult, org_choices};
use crate::http::extract::Path;
use crate::services::tickets::{self, NewTicket, TicketPatch};
use crate::state::AppState;
use entity::values::{TicketStatus, names};
use sea_orm::ActiveEnum;

/// The new-ticket form.
#[derive(Debug, Deserialize)]
pub struct TicketForm {
    organisation_id: i32,
    #[serde(default, deserialize_with = "optional")]
    charger_id: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

/// `GET /tickets`
pub async fn list(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    let rows = tickets::list(&state, &viewer.principal, &paging.query()).await?;
    let orgs = org_choices(&state, &viewer.principal, Permission::Tickets).await?;
    let body = html! {
        (paging.filter("/tickets", &orgs))
        @if rows.is_empty() { (empty("tickets")) } @else {
            table {
                thead { tr { th { "#" } th { "Title" } th { "Charger" } th { "Status" } th { "Opened" } th { "Change status" } } }
                tbody { @for t in &rows {
                    tr {
                        td { (t.id) } td { (t.title) }
                        td { @if let Some(c) = &t.charger_id { a href=(charger_href(c)) { (c) } } @else { "–" } }
                        td { (badge(t.status)) } td { (when(Some(t.created_at))) }
                        td {
                            form.inline method="post" action={ "/tickets/" (t.id) } {
                                (csrf_input(&viewer))
                                select name="status" aria-label={ "Status of ticket " (t.id) } {
                                    @for s in names::<TicketStatus>() { option value=(s) selected[s == t.status.to_string()] { (s) } }
                                }
                                button type="submit" { "Set" }
                            }
                        }
                    }
                } }
            }
            (paging.links("/tickets", rows.len()))
        }
        h2 { "Open a ticket" }
        form.stacked method="post" action="/tickets" {
            (csrf_input(&viewer))
            label for="organisation_id" { "Organisation" }
            select #organisation_id name="organisation_id" required {
                @for (id, name) in &orgs { option value=(id) { (name) } }
            }
            label for="charger_id" { "Charger " small { "(optional)" } }
            input #charger_id name="charger_id";
            label for="title" { "Title" }
            input #title name="title" required maxlength="200";
            label for="body" { "Description" }
            textarea #body name="body" rows="4" {}
            button type="submit" { "Open ticket" }
        }
    };
    Ok(page(&state, &viewer, "/tickets", "Tickets", body))
}

/// The status form of a ticket row.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
}

/// `POST /tickets/{id}`: moves a ticket to another status.
pub async fn set_status(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<StatusForm>) -> PageResult {
    // An unknown status is told on the page like any refusal, not as a broken form.
    let outcome = match TicketStatus::try_from_value(&s.form.status) {
        Ok(status) => {
            let patch = TicketPatch {
                title: None,
                body: None,
                status: Some(status),
            };
            tickets::update(&state, &s.viewer.principal, id, patch)
                .await
                .map(|t| format!("Ticket #{} is {}", t.id, t.status))
        }
        Err(_) => Err(crate::services::invalid(
            "status",
            format!("must be one of {}", names::<TicketStatus>().join(", ")),
        )),
    };
    after_form(&state, outcome, "/tickets")
}

/// `POST /tickets`
pub async fn create(State(state): State<AppState>, s: Submitted<TicketForm>) -> PageResult {
    let f = s.form;
    let input = NewTicket {
        organisation_id: f.organisation_id,
        charger_id: f.charger_id,
        title: f.title,
        body: f.body,
    };
    let outcome = tickets::create(&state, &s.viewer.principal, input)
        .await
        .map(|t| format!("Ticket #{} opened", t.id));
    after_form(&state, outcome, "/tickets")
}
