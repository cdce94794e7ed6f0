//! Users and memberships, for operators: the list with each role's window, giving (or
//! renewing) or taking away one role, and a form that invites a user with one role, for a
//! window if wanted (the invitation link is shown, and mailed when SMTP is set up).

use axum::extract::{Query, State};
use chrono::{DateTime, NaiveDateTime, Utc};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Paging, after_form, optional};
use crate::access::{Permission, Role};
use crate::console::layout::{badge, csrf_input, empty, or_dash, org_label, page};
use crate::console::session::{Flash, Submitted, Viewer};
use crate::console::{ConsoleError, PageResult, org_choices};
use crate::services::{
    self,
    users::{self, GrantState, MembershipIn, NewUser, UserOut},
};
use crate::state::AppState;

/// The invite form.
#[derive(Debug, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    username: String,
    #[serde(default, deserialize_with = "optional")]
    email: Option<String>,
    organisation_id: i32,
    role: Role,
    #[serde(default, deserialize_with = "optional")]
    valid_from: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    valid_until: Option<String>,
}

/// A `datetime-local` field, read as UTC (the label says so).
pub(super) fn instant(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ConsoleError> {
    let Some(value) = value else { return Ok(None) };
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S"))
        .map(|t| Some(t.and_utc()))
        .map_err(|_| ConsoleError::BadForm(format!("{field} {value:?} is not a date and time")))
}

/// The two window fields of a grant form.
fn window_inputs(prefix: &str) -> maud::Markup {
    html! {
        label for={ (prefix) "-from" } { "Valid from " small { "(UTC; empty: at once)" } }
        input id={ (prefix) "-from" } type="datetime-local" name="valid_from";
        label for={ (prefix) "-until" } { "Valid until " small { "(UTC; empty: until taken away)" } }
        input id={ (prefix) "-until" } type="datetime-local" name="valid_until";
    }
}

/// `GET /users`
pub async fn list(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    render(&state, &viewer, &paging).await
}

async fn render(state: &AppState, viewer: &Viewer, paging: &Paging) -> PageResult {
    let p = &viewer.principal;
    let rows = users::list(state, p, &paging.query()).await?;
    let orgs = org_choices(state, p, Permission::UsersManage).await?;
    let body = html! {
        @if rows.is_empty() { (empty("users")) } @else {
            table {
                thead { tr { th { "User" } th { "E-mail" } th { "Roles" } th { "Two-factor" } th { "State" } } }
                tbody { @for u in &rows {
                    tr {
                        td { (u.username) }
                        td { (or_dash(u.email.as_deref())) }
                        td { (roles(viewer, u, &orgs)) }
                        td { @if u.two_factor { "on" } @else { "off" } }
                        td {
                            @if u.disabled { (badge("disabled")) }
                            @else if !u.has_password { (badge("invited")) }
                            @else { (badge("active")) }
                        }
                    }
                } }
            }
            (paging.links("/users", rows.len()))
        }
        @if !rows.is_empty() { (grant_form(viewer, &rows, &orgs)) }
        (invite_form(viewer, &orgs))
    };
    Ok(page(state, viewer, "/users", "Users", body))
}

/// A user's roles, each with its window and state, and a remove button where the viewer may
/// take it away (never from itself).
fn roles(viewer: &Viewer, u: &UserOut, orgs: &[(i32, String)]) -> Markup {
    let p = &viewer.principal;
    let org_name = |id: i32| org_label(orgs, id);
    html! {
        @for m in &u.memberships {
            span.role {
                (m.role) " at " (org_name(m.organisation_id))
                @if let Some(from) = m.valid_from { " from " (from.format("%Y-%m-%d %H:%M")) }
                @if let Some(until) = m.valid_until { " until " (until.format("%Y-%m-%d %H:%M")) }
                @if m.state != GrantState::Active { " " (badge(grant_state(m.state))) }
            }
            @if orgs.iter().any(|(o, _)| *o == m.organisation_id) && p.user_id() != Some(u.id) {
                form.inline method="post" action="/users/roles" {
                    (csrf_input(viewer))
                    input type="hidden" name="user_id" value=(u.id);
                    input type="hidden" name="change" value="remove";
                    input type="hidden" name="organisation_id" value=(m.organisation_id);
                    input type="hidden" name="role" value=(m.role.as_str());
                    button type="submit" aria-label={ "Remove " (m.role) " at " (org_name(m.organisation_id)) " from " (u.username) } { "×" }
                }
            }
            " "
        }
    }
}

/// Gives one of the listed users (not the viewer) a role, possibly for a window.
fn grant_form(viewer: &Viewer, rows: &[UserOut], orgs: &[(i32, String)]) -> Markup {
    let p = &viewer.principal;
    html! {
        h2 { "Give a role" }
        form.stacked method="post" action="/users/roles" {
            (csrf_input(viewer))
            label for="grant-user" { "User" }
            select #grant-user name="user_id" required {
                @for u in rows.iter().filter(|u| p.user_id() != Some(u.id)) { option value=(u.id) { (u.username) } }
            }
            label for="grant-org" { "Organisation" }
            select #grant-org name="organisation_id" required {
                @for (id, name) in orgs { option value=(id) { (name) } }
            }
            label for="grant-role" { "Role" }
            select #grant-role name="role" { @for r in Role::ALL { option value=(r.as_str()) { (r.as_str()) } } }
            (window_inputs("grant"))
            input type="hidden" name="change" value="add";
            button type="submit" { "Give or renew role" }
        }
    }
}

fn invite_form(viewer: &Viewer, orgs: &[(i32, String)]) -> Markup {
    html! {
        h2 { "Invite a user" }
        form.stacked method="post" action="/users" {
            (csrf_input(viewer))
            label for="username" { "User name" }
            input #username name="username" required maxlength="64" autocomplete="off";
            label for="email" { "E-mail " small { "(the invitation is mailed when SMTP is set up)" } }
            input #email type="email" name="email";
            label for="organisation_id" { "Organisation" }
            select #organisation_id name="organisation_id" required {
                @for (id, name) in orgs { option value=(id) { (name) } }
            }
            label for="role" { "Role" }
            select #role name="role" { @for r in Role::ALL { option value=(r.as_str()) { (r.as_str()) } } }
            (window_inputs("invite"))
            button type="submit" { "Invite" }
        }
    }
}

/// A role to give or take away.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    user_id: i32,
    organisation_id: i32,
    role: Role,
    /// `add` or `remove`.
    change: String,
    #[serde(default, deserialize_with = "optional")]
    valid_from: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    valid_until: Option<String>,
}

fn grant_state(state: GrantState) -> &'static str {
    match state {
        GrantState::Active => "active",
        GrantState::Scheduled => "scheduled",
        GrantState::Ended => "ended",
    }
}

/// `POST /users/roles`: one membership given or taken away (only that one is touched).
pub async fn change_role(State(state): State<AppState>, s: Submitted<RoleForm>) -> PageResult {
    let f = s.form;
    let add = match f.change.as_str() {
        "add" => true,
        "remove" => false,
        other => {
            return Err(ConsoleError::BadForm(format!(
                "change {other:?} is neither add nor remove"
            )));
        }
    };
    let m = MembershipIn {
        organisation_id: f.organisation_id,
        role: f.role,
        valid_from: instant("valid from", f.valid_from.as_deref())?,
        valid_until: instant("valid until", f.valid_until.as_deref())?,
    };
    let outcome = users::change_membership(&state, &s.viewer.principal, f.user_id, m, add)
        .await
        .map(|u| {
            let done = if add { "given to" } else { "taken from" };
            format!("Role {} {done} {}", f.role, u.username)
        });
    after_form(&state, outcome, "/users")
}

/// `POST /users`: creates the user without a password (an invitation) and gives it the role.
pub async fn create(State(state): State<AppState>, s: Submitted<InviteForm>) -> PageResult {
    let p = &s.viewer.principal;
    let f = s.form;
    let role = MembershipIn {
        organisation_id: f.organisation_id,
        role: f.role,
        valid_from: instant("valid from", f.valid_from.as_deref())?,
        valid_until: instant("valid until", f.valid_until.as_deref())?,
    };
    let outcome = async {
        let input = NewUser {
            username: f.username.trim().to_owned(),
            email: f.email,
            password: None,
            organisation_id: Some(f.organisation_id),
            memberships: vec![role],
        };
        let created = users::create(&state, p, input).await?;
        Ok::<_, services::Error>(match created.invitation {
            Some(i) if i.emailed => format!("{} invited; the invitation was mailed.", created.username),
            Some(i) => format!(
                "{} invited; hand over this link (it works once): {}",
                created.username, i.url
            ),
            None => format!("{} created.", created.username),
        })
    }
    .await;
    match outcome {
        // Shown at once rather than carried in a cookie: the link is a credential.
        Ok(done) => {
            let mut viewer = s.viewer;
            viewer.flash = Some(Flash::ok(done));
            render(&state, &viewer, &Paging::default()).await
        }
        Err(e) => after_form(&state, Err::<String, _>(e), "/users"),
    }
}
