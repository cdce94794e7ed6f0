//! Charging back office: RFID tokens (issue one, block it, give it a driver and a group) and
//! the charging log with its CSV export.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use maud::{Markup, html};
use serde::Deserialize;

use super::{Paging, after_form};
use crate::access::Permission;
use crate::console::layout::{badge, charger_href, csrf_input, empty, kwh, or_dash, page, when};
use crate::console::session::{Submitted, Viewer};
use crate::console::{PageResult, org_choices};
use crate::services::drivers::DriverOut;
use crate::services::groups::GroupOut;
use crate::services::id_tokens::{self, TokenIn, TokenOut};
use crate::services::local_lists::TokenSyncOut;
use crate::services::transactions::{self, TransactionQuery};
use crate::services::{ListQuery, drivers, groups, local_lists};
use crate::state::AppState;
use entity::values::{TokenKind, TokenStatus, names};

/// The issue-a-token form.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
    organisation_id: i32,
    #[serde(default)]
    kind: Option<TokenKind>,
    #[serde(default)]
    status: Option<TokenStatus>,
}

/// `GET /tokens`
pub async fn tokens(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    let p = &viewer.principal;
    let rows = id_tokens::list_tokens(&state, p, &paging.query()).await?;
    let orgs = org_choices(&state, p, Permission::DriversWrite).await?;
    let readable = org_choices(&state, p, Permission::DriversRead).await?;
    let body = html! {
        (paging.filter("/tokens", &readable))
        @if rows.is_empty() { (empty("RFID tokens")) } @else {
            table {
                thead { tr { th { "Token" } th { "Kind" } th { "Organisation" } th { "Driver" } th { "Status" } th { "Expires" } } }
                tbody { @for t in &rows {
                    tr {
                        td { a href={ "/tokens/" (t.id) } { code { (t.token) } } } td { (t.kind) } td { (t.organisation_id) }
                        td { (or_dash(t.driver_id)) } td { (badge(t.status)) } td { (when(t.expires_at)) }
                    }
                } }
            }
            (paging.links("/tokens", rows.len()))
        }
        @if !orgs.is_empty() {
            h2 { "Issue a token" }
            form.stacked method="post" action="/tokens" {
                (csrf_input(&viewer))
                label for="token" { "Token (card UID)" }
                input #token name="token" required maxlength="36" autocomplete="off";
                label for="organisation_id" { "Organisation" }
                select #organisation_id name="organisation_id" required {
                    @for (id, name) in &orgs { option value=(id) { (name) } }
                }
                label for="kind" { "Kind" }
                select #kind name="kind" { @for k in names::<TokenKind>() { option value=(k) { (k) } } }
                label for="status" { "Status" }
                select #status name="status" { @for s in names::<TokenStatus>() { option value=(s) { (s) } } }
                button #issue type="submit" { "Issue token" }
            }
        }
    };
    Ok(page(&state, &viewer, "/tokens", "RFID tokens", body))
}

/// `GET /tokens/{id}`: one token and how far its latest state (a block, say) has reached the
/// chargers' local lists and caches; block or unblock it where the viewer may.
pub async fn token(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i32>) -> PageResult {
    let p = &viewer.principal;
    let t = id_tokens::get_token(&state, p, id).await?;
    let sync = local_lists::token_sync(&state, p, id).await?;
    let writable = match state.store.organisation(t.organisation_id).await {
        Ok(Some(org)) => p.allows(Permission::DriversWrite, (&org).into()),
        _ => false,
    };
    // The drivers and groups it may join: those of its organisation's subtree.
    let people = if writable {
        let q = ListQuery::largest(Some(t.organisation_id));
        (
            drivers::list_drivers(&state, p, &q).await?,
            groups::list_groups(&state, p, &q).await?,
        )
    } else {
        Default::default()
    };
    let body = html! {
        dl.facts {
            dt { "Kind" } dd { (t.kind) }
            dt { "Organisation" } dd { (t.organisation_id) }
            dt { "Group" } dd { (or_dash(t.group_id)) }
            dt { "Status" } dd { (badge(t.status)) }
            dt { "Expires" } dd { (when(t.expires_at)) }
        }
        @if writable { (token_forms(&viewer, &t, &people.0, &people.1)) }
        (sync_section(&sync))
    };
    Ok(page(&state, &viewer, "/tokens", &format!("Token {}", t.token), body))
}

/// Block or unblock a token; its driver, group and expiry.
fn token_forms(viewer: &Viewer, t: &TokenOut, drivers: &[DriverOut], groups: &[GroupOut]) -> Markup {
    html! {
        form method="post" action={ "/tokens/" (t.id) "/status" } {
            (csrf_input(viewer))
            @if t.status == TokenStatus::Blocked {
                input type="hidden" name="status" value="Accepted";
                button #unblock type="submit" { "Unblock" }
            } @else {
                input type="hidden" name="status" value="Blocked";
                button #block type="submit" { "Block" }
                " refused at once online, and on every charger's local list and cache within seconds"
            }
        }
        h2 { "Driver and group" }
        form.stacked method="post" action={ "/tokens/" (t.id) } {
            (csrf_input(viewer))
            label for="token-driver" { "Driver" }
            select #token-driver name="driver_id" {
                option value="" { "none" }
                @for d in drivers { option value=(d.id) selected[t.driver_id == Some(d.id)] { (d.name) } }
            }
            label for="token-group" { "Group " small { "(decides where it may charge: the access rules of private sites)" } }
            select #token-group name="group_id" {
                option value="" { "none" }
                @for g in groups { option value=(g.id) selected[t.group_id == Some(g.id)] { (g.name) } }
            }
            label for="token-expires" { "Expires " small { "(UTC; empty: never)" } }
            input #token-expires type="datetime-local" name="expires_at" value=[t.expires_at.map(|e| e.format("%Y-%m-%dT%H:%M").to_string())];
            button type="submit" { "Save" }
        }
    }
}

/// How far the token's latest state has reached the chargers' lists and caches.
fn sync_section(sync: &TokenSyncOut) -> Markup {
    html! {
        h2 { "Where its state has reached" }
        p #sync-applied { "Local lists holding its latest state: " strong { (sync.applied) } }
        @if sync.pending.is_empty() { (empty("chargers still waiting")) } @else {
            table #sync-pending {
                thead { tr { th { "Charger" } th { "Why not yet" } th { "Last error" } } }
                tbody { @for c in &sync.pending {
                    tr {
                        td { a href=(charger_href(&c.charger_id)) { (c.charger_id) } }
                        td { (badge(c.reason)) } td { (or_dash(c.last_error.as_deref())) }
                    }
                } }
            }
        }
        @if !sync.cache_clear_pending.is_empty() {
            p #cache-pending {
                "Still to clear their cache: "
                @for (i, c) in sync.cache_clear_pending.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(charger_href(c)) { (c) }
                }
            }
        }
    }
}

/// The block / unblock form.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: TokenStatus,
}

/// `POST /tokens/{id}/status`
pub async fn set_token_status(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    s: Submitted<StatusForm>,
) -> PageResult {
    let input = TokenIn {
        token: None,
        organisation_id: None,
        kind: None,
        driver_id: None,
        group_id: None,
        status: Some(s.form.status),
        expires_at: None,
    };
    let outcome = id_tokens::update_token(&state, &s.viewer.principal, id, input)
        .await
        .map(|t| format!("Token {} is {} now", t.token, t.status));
    after_form(&state, outcome, &format!("/tokens/{id}"))
}

/// The driver-and-group form of a token.
#[derive(Debug, Deserialize)]
pub struct AssignForm {
    #[serde(default, deserialize_with = "super::lenient")]
    driver_id: Option<i32>,
    #[serde(default, deserialize_with = "super::lenient")]
    group_id: Option<i32>,
    #[serde(default, deserialize_with = "super::optional")]
    expires_at: Option<String>,
}

/// `POST /tokens/{id}`: its driver, group and expiry (empty fields clear them).
pub async fn assign_token(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<AssignForm>) -> PageResult {
    let f = s.form;
    let expires_at = super::users::instant("expires", f.expires_at.as_deref())?;
    let input = TokenIn {
        token: None,
        organisation_id: None,
        kind: None,
        driver_id: Some(f.driver_id),
        group_id: Some(f.group_id),
        status: None,
        expires_at: Some(expires_at),
    };
    let outcome = id_tokens::update_token(&state, &s.viewer.principal, id, input)
        .await
        .map(|t| format!("Token {} saved", t.token));
    after_form(&state, outcome, &format!("/tokens/{id}"))
}

/// `POST /tokens`
pub async fn create_token(State(state): State<AppState>, s: Submitted<TokenForm>) -> PageResult {
    let f = s.form;
    let input = TokenIn {
        token: Some(f.token.trim().to_owned()),
        organisation_id: Some(f.organisation_id),
        kind: f.kind,
        driver_id: None,
        group_id: None,
        status: f.status,
        expires_at: None,
    };
    let outcome = id_tokens::create_token(&state, &s.viewer.principal, input)
        .await
        .map(|t| format!("Token {} issued ({})", t.token, t.status));
    after_form(&state, outcome, "/tokens")
}

fn log_query(paging: &Paging) -> TransactionQuery {
    let q = paging.query();
    TransactionQuery {
        limit: q.limit,
        offset: q.offset,
        organisation_id: q.organisation_id,
        ..Default::default()
    }
}

/// `GET /transactions`
pub async fn transactions(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    let rows = transactions::list(&state, &viewer.principal, &log_query(&paging)).await?;
    let billing = rows.iter().any(|r| r.cost.is_some());
    let orgs = org_choices(&state, &viewer.principal, Permission::TransactionsRead).await?;
    let body = html! {
        (paging.filter("/transactions", &orgs))
        p { a.button href={ "/transactions.csv" @if let Some(o) = paging.organisation_id { "?organisation_id=" (o) } } download { "Export CSV" } }
        @if rows.is_empty() { (empty("charging sessions")) } @else {
            table {
                thead { tr {
                    th { "Started" } th { "Stopped" } th { "Charger" } th { "Token" } th { "Energy" }
                    @if billing { th { "Cost" } }
                } }
                tbody { @for t in &rows {
                    tr {
                        td { (when(Some(t.started_at))) } td { (when(t.stopped_at)) }
                        td { a href=(charger_href(&t.charger_id)) { (t.charger_id) } }
                        td { code { (t.id_token) } }
                        td { (or_dash(t.energy_wh.map(kwh))) }
                        @if billing { td { (or_dash(t.cost.map(|c| format!("{c:.2} {}", t.currency.as_deref().unwrap_or_default())))) } }
                    }
                } }
            }
            (paging.links("/transactions", rows.len()))
        }
    };
    Ok(page(&state, &viewer, "/transactions", "Charging log", body))
}

/// `GET /transactions.csv`: the newest rows of the log (at most one API page) as a download.
pub async fn transactions_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(paging): Query<Paging>,
) -> PageResult {
    let q = TransactionQuery {
        limit: Some(crate::store::Page::MAX_LIMIT),
        organisation_id: paging.organisation_id,
        ..Default::default()
    };
    let rows = transactions::list(&state, &viewer.principal, &q).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"charging-log.csv\""),
        ],
        transactions::to_csv(&rows),
    )
        .into_response())
}
