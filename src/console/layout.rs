//! The page shell (header, menu, flash message) and small view helpers shared by the pages.
//! The menu shows what the gate would allow; it is a convenience, the services check again.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::session::{CSRF_FIELD, Flash, Viewer, flash_removal, secure};
use crate::access::{Permission, Principal};
use crate::state::AppState;

/// What console pages may load: their own stylesheet, script and inline images (QR codes).
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The menu entries, each with the permission that makes it useful.
const MENU: &[(&str, &str, Option<Permission>)] = &[
    ("/", "Dashboard", None),
    ("/organisations", "Organisations", Some(Permission::OrganisationsRead)),
    ("/sites", "Sites", Some(Permission::ChargersRead)),
    ("/chargers", "Chargers", Some(Permission::ChargersRead)),
    ("/tickets", "Tickets", Some(Permission::Tickets)),
    ("/campaigns", "Campaigns", Some(Permission::RemoteMaintenance)),
    ("/transactions", "Charging log", Some(Permission::TransactionsRead)),
    ("/tokens", "RFID tokens", Some(Permission::DriversRead)),
    ("/drivers", "Drivers", Some(Permission::DriversRead)),
    ("/groups", "Groups", Some(Permission::DriversRead)),
    ("/billing", "Billing", Some(Permission::Billing)),
    ("/users", "Users", Some(Permission::UsersManage)),
    ("/audit", "Audit log", Some(Permission::AuditRead)),
];

/// Whether the principal holds `permission` anywhere (decides what the menu shows).
pub fn holds(p: &Principal, permission: Permission) -> bool {
    p.scope(permission).is_ok()
}

/// A whole page for a signed-in user.
pub fn page(state: &AppState, viewer: &Viewer, current: &str, title: &str, body: Markup) -> Response {
    let p = &viewer.principal;
    let markup = shell(
        title,
        html! {
            header.top {
                a.brand href="/" { "voltgate" }
                nav aria-label="Main" {
                    ul {
                        @for (href, label, permission) in MENU {
                            @if permission.is_none_or(|perm| holds(p, perm)) {
                                li { a href=(href) aria-current=[(*href == current).then_some("page")] { (label) } }
                            }
                        }
                    }
                }
                form.logout method="post" action="/logout" {
                    (csrf_input(viewer))
                    a.who href="/account" { (p.username()) }
                    button type="submit" { "Log out" }
                }
            }
            main {
                @if let Some(flash) = &viewer.flash { (flash_box(flash)) }
                h1 { (title) }
                (body)
            }
        },
    );
    let mut response = html_response(StatusCode::OK, markup);
    if viewer.flash.is_some() {
        response = (CookieJar::new().add(flash_removal(secure(state))), response).into_response();
    }
    response
}

/// The document around a body, for signed-in pages and the login page alike.
pub fn shell(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · voltgate" }
                link rel="stylesheet" href="/assets/console.css";
                script src="/assets/console.js" defer {}
            }
            body { (body) }
        }
    }
}

/// An HTML answer with the console's CSP.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    response
}

/// The hidden CSRF field every form carries.
pub fn csrf_input(viewer: &Viewer) -> Markup {
    html! { input type="hidden" name=(CSRF_FIELD) value=(viewer.csrf); }
}

/// A success or failure message.
pub fn flash_box(flash: &Flash) -> Markup {
    let (class, role) = if flash.ok {
        ("flash ok", "status")
    } else {
        ("flash bad", "alert")
    };
    html! { p class=(class) role=(role) { (flash.text) } }
}

/// A status in words and colour: the word is always there, the colour only helps.
pub fn badge(status: impl std::fmt::Display) -> Markup {
    let status = status.to_string();
    let tone = match status.as_str() {
        "Available" | "online" | "Accepted" | "ok" | "Unlocked" | "Installed" | "closed" | "succeeded" | "done"
        | "delivered" => "ok",
        "Charging" | "Occupied" | "Preparing" | "SuspendedEV" | "SuspendedEVSE" | "Finishing" | "in_progress"
        | "pending" | "Downloading" | "Downloaded" | "Installing" | "Scheduled" | "running" | "sending"
        | "installing" => "busy",
        "Faulted" | "offline" | "Rejected" | "denied" | "Blocked" | "UnlockFailed" | "InstallationFailed"
        | "DownloadFailed" | "timeout" | "error" | "failed" | "interrupted" | "expired" => "bad",
        _ => "neutral",
    };
    html! { span class={ "badge " (tone) } { (status) } }
}

/// A time as people read it (UTC), or a dash.
pub fn when(at: Option<DateTime<Utc>>) -> Markup {
    match at {
        Some(t) => html! { time datetime=(t.to_rfc3339()) { (t.format("%Y-%m-%d %H:%M:%S UTC")) } },
        None => html! { "–" },
    }
}

/// An optional value, or a dash.
pub fn or_dash<T: std::fmt::Display>(v: Option<T>) -> Markup {
    match v {
        Some(v) => html! { (v) },
        None => html! { "–" },
    }
}

/// Energy in kWh with two decimals.
pub fn kwh(wh: i64) -> String {
    format!("{:.2} kWh", wh as f64 / 1000.0)
}

/// Everything but RFC 3986's unreserved characters is escaped in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The path of a charger's page (charge point ids may hold characters URLs reserve).
pub fn charger_href(id: &str) -> String {
    format!("/chargers/{}", utf8_percent_encode(id, SEGMENT))
}

/// An organisation's name among `orgs` (the page's choices), or `#id` for one outside them.
pub fn org_label(orgs: &[(i32, String)], id: i32) -> String {
    orgs.iter()
        .find(|(o, _)| *o == id)
        .map_or_else(|| format!("#{id}"), |(_, n)| n.clone())
}

/// A delete button posting to `action`, labelled for screen readers with what it deletes.
pub fn delete_button(viewer: &Viewer, action: &str, what: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf_input(viewer))
            button.secondary type="submit" aria-label={ "Delete " (what) } { "Delete" }
        }
    }
}

/// A labelled organisation picker, the field `organisation_id`.
pub fn org_select(id: &str, orgs: &[(i32, String)]) -> Markup {
    html! {
        label for=(id) { "Organisation" }
        select id=(id) name="organisation_id" required {
            @for (oid, name) in orgs { option value=(oid) { (name) } }
        }
    }
}

/// A short note where a list has nothing to show.
pub fn empty(what: &str) -> Markup {
    html! { p.empty { "No " (what) "." } }
}
