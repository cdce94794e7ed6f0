//! The audit log (maintenance: its own actions).

use axum::extract::{Query, State};
use maud::html;

use super::Paging;
use crate::console::PageResult;
use crate::console::layout::{badge, empty, or_dash, page, when};
use crate::console::session::Viewer;
use crate::services::audit_log;
use crate::state::AppState;

/// `GET /audit`
pub async fn list(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    let rows = audit_log::list(&state, &viewer.principal, &paging.query()).await?;
    let body = html! {
        @if rows.is_empty() { (empty("audit entries")) } @else {
            table {
                thead { tr { th { "When" } th { "User" } th { "Action" } th { "About" } th { "Outcome" } th { "Detail" } } }
                tbody { @for a in &rows {
                    tr {
                        td { (when(Some(a.at))) }
                        td { (or_dash(a.user_id)) }
                        td { (a.action) }
                        td { (or_dash(a.resource.as_deref())) }
                        td { (badge(&a.outcome)) }
                        td { (or_dash(a.detail.as_deref())) }
                    }
                } }
            }
            (paging.links("/audit", rows.len()))
        }
    };
    Ok(page(&state, &viewer, "/audit", "Audit log", body))
}
