//! `/`: the dashboard of `GET /api/v1/dashboard`, as a page.

use axum::extract::State;
use maud::html;

use crate::console::PageResult;
use crate::console::layout::charger_href as href;
use crate::console::layout::{badge, empty, kwh, page, when};
use crate::console::session::Viewer;
use crate::services::dashboard::{self, DashboardQuery};
use crate::state::AppState;

/// A card that turns red when something needs looking at.
fn alarm(n: u64) -> &'static str {
    if n > 0 { "card bad" } else { "card" }
}

/// `GET /`
pub async fn show(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let d = dashboard::get(&state, &viewer.principal, &DashboardQuery::default()).await?;
    let c = &d.chargers;
    let body = html! {
        p.view { "Your " (d.view) " dashboard, over everything your roles reach." }
        section.cards #cards data-live="chargers" aria-label="Chargers" {
            a.card href="/chargers" { span.n { (c.total) } " chargers" }
            div.card.ok { span.n { (c.online) } " online" }
            div class=(alarm(c.offline)) { span.n { (c.offline) } " offline" }
            div class=(alarm(c.faulted)) { span.n { (c.faulted) } " faulted" }
            @if let Some(n) = d.open_tickets { a.card href="/tickets" { span.n { (n) } " open tickets" } }
            @if let Some(t) = &d.today {
                a.card href="/transactions" { span.n { (t.sessions) } " sessions since 00:00 UTC" }
                div.card { span.n { (kwh(t.energy_wh)) } " delivered since 00:00 UTC" }
                @if let Some(revenue) = &t.revenue {
                    div.card {
                        span.n {
                            @if revenue.is_empty() { "0.00" }
                            @for (currency, amount) in revenue { (format!("{amount:.2} {currency}")) " " }
                        }
                        " revenue since 00:00 UTC"
                    }
                }
            }
        }
        h2 { "Connectors" }
        div #connectors data-live="chargers" {
            @if d.connectors.is_empty() { (empty("connector statuses")) } @else {
                ul.statuses { @for (status, n) in &d.connectors { li { (badge(status)) " " (n) } } }
            }
        }
        h2 { "Firmware updates in progress" }
        div #firmware data-live="chargers" {
            @if d.firmware_updates.is_empty() { (empty("firmware updates in progress")) } @else {
                table {
                    thead { tr { th { "Charger" } th { "Status" } th { "Since" } } }
                    tbody { @for f in &d.firmware_updates {
                        tr { td { a href=(href(&f.charger_id)) { (f.charger_id) } } td { (badge(&f.status)) } td { (when(f.at)) } }
                    } }
                }
            }
        }
        @if let Some(actions) = &d.recent_actions {
            h2 { "Last remote actions" }
            @if actions.is_empty() { (empty("remote actions")) } @else {
                table {
                    thead { tr { th { "When" } th { "Action" } th { "Charger" } th { "Outcome" } } }
                    tbody { @for a in actions {
                        tr {
                            td { (when(Some(a.at))) }
                            td { (a.action.trim_start_matches("command.")) }
                            td { @if let Some(id) = &a.charger_id { a href=(href(id)) { (id) } } }
                            td { (badge(&a.outcome)) }
                        }
                    } }
                }
            }
        }
        @if let Some(grants) = &d.expiring_grants {
            h2 { "Roles ending within 7 days" }
            @if grants.is_empty() { (empty("roles ending soon")) } @else {
                table #expiring {
                    thead { tr { th { "User" } th { "Role" } th { "Organisation" } th { "Ends" } } }
                    tbody { @for g in grants {
                        tr {
                            td { a href={ "/audit?user_id=" (g.user_id) } { (g.username) } }
                            td { (g.role) } td { (g.organisation_id) } td { (when(Some(g.valid_until))) }
                        }
                    } }
                }
                p { a href="/users" { "Renew or end them on the users page." } }
            }
        }
    };
    Ok(page(&state, &viewer, "/", "Dashboard", body))
}
