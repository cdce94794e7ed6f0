//! The audit log (maintenance: its own actions), and the contractor report: what one user
//! did across the viewer's subtree, with the chargers' answers to its commands.

use axum::extract::{Query, State};
use maud::html;
use serde::Deserialize;

use super::{Paging, lenient, lenient_offset};
use crate::access::Permission;
use crate::console::layout::{badge, empty, or_dash, page, when};
use crate::console::session::Viewer;
use crate::console::{PageResult, layout};
use crate::services::audit_log::{self, AuditQuery};
use crate::services::{ListQuery, users};
use crate::state::AppState;

/// `?offset=&organisation_id=&user_id=` of the audit page, read leniently like [`Paging`].
#[derive(Debug, Default, Deserialize)]
pub struct AuditPage {
    #[serde(default, deserialize_with = "lenient_offset")]
    offset: Option<u64>,
    #[serde(default, deserialize_with = "lenient")]
    organisation_id: Option<i32>,
    #[serde(default, deserialize_with = "lenient")]
    user_id: Option<i32>,
}

/// `GET /audit`
pub async fn list(State(state): State<AppState>, viewer: Viewer, Query(q): Query<AuditPage>) -> PageResult {
    let p = &viewer.principal;
    let paging = Paging {
        offset: q.offset,
        organisation_id: q.organisation_id,
    };
    let query = AuditQuery {
        user_id: q.user_id,
        ..AuditQuery::from(paging.query())
    };
    let rows = audit_log::list(&state, p, &query).await?;
    // Operators pick whose report to read among the users they manage.
    let people = if layout::holds(p, Permission::UsersManage) {
        let everyone = ListQuery::largest(q.organisation_id);
        users::list(&state, p, &everyone).await?
    } else {
        Vec::new()
    };
    let subject = q.user_id.map(|id| {
        people
            .iter()
            .find(|u| u.id == id)
            .map_or_else(|| format!("user #{id}"), |u| u.username.clone())
    });
    let title = match &subject {
        Some(name) => format!("What {name} did"),
        None => "Audit log".to_owned(),
    };
    let here = match q.user_id {
        Some(id) => format!("/audit?user_id={id}"),
        None => "/audit".to_owned(),
    };
    let body = html! {
        @if !people.is_empty() {
            form.filter method="get" action="/audit" {
                label for="audit-user" { "Contractor report for" }
                select #audit-user name="user_id" {
                    option value="" { "Everyone" }
                    @for u in &people {
                        option value=(u.id) selected[q.user_id == Some(u.id)] { (u.username) }
                    }
                }
                button type="submit" { "Show" }
            }
        }
        @if rows.is_empty() { (empty("audit entries")) } @else {
            table #audit {
                thead { tr { th { "When" } th { "User" } th { "Action" } th { "About" } th { "Outcome" } th { "Charger's answer / detail" } } }
                tbody { @for a in &rows {
                    tr {
                        td { (when(Some(a.at))) }
                        td { (or_dash(a.user_id)) }
                        td { (a.action) }
                        td {
                            @if let Some(c) = &a.charger_id { a href={ "/chargers/" (c) } { (c) } }
                            @else { (or_dash(a.resource.as_deref())) }
                        }
                        td { (badge(&a.outcome)) }
                        td { (or_dash(a.detail.as_deref())) }
                    }
                } }
            }
            (paging.links(&here, rows.len()))
        }
    };
    Ok(page(&state, &viewer, "/audit", &title, body))
}
