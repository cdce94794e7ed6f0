//! `/account`: the signed-in user's own account: its sessions (end any of them), its password
//! (changing it ends the other sessions), its e-mail alerts and a way to its two-factor
//! settings.

use axum::extract::State;
use maud::{Markup, html};
use serde::Deserialize;

use super::{Empty, after_form};
use crate::access::Permission;
use crate::console::layout::{csrf_input, or_dash, org_label, page, when};
use crate::console::session::{Submitted, Viewer};
use crate::console::{PageResult, org_choices};
use crate::http::extract::Path;
use crate::services::auth::{self, PasswordChange};
use crate::services::webhooks::{self, NewSubscriptionIn, SubscriptionOut};
use crate::services::{invalid, sessions};
use crate::state::AppState;

/// The password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    otp: String,
}

/// `GET /account`
pub async fn show(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let me = auth::me(&state, &viewer.principal).await?;
    let own = sessions::list_own(&state, &viewer.principal, &viewer.token).await?;
    let subscriptions = webhooks::subscriptions(&state, &viewer.principal).await?;
    let orgs = org_choices(&state, &viewer.principal, Permission::ChargersRead).await?;
    let body = html! {
        dl.facts {
            dt { "User name" } dd { (me.username) }
            dt { "E-mail" } dd { (or_dash(me.email.as_deref())) }
            dt { "Two-factor" } dd { @if me.two_factor { "on" } @else { "off" } " · " a href="/account/2fa" { "settings" } }
        }
        h2 { "Sessions" }
        table {
            thead { tr { th { "Since" } th { "Expires" } th { "From" } th { "" } } }
            tbody { @for s in &own {
                tr {
                    td { (when(Some(s.created_at))) } td { (when(Some(s.expires_at))) } td { (or_dash(s.address.as_deref())) }
                    td {
                        @if s.current { "this browser" } @else {
                            form.inline method="post" action={ "/account/sessions/" (s.id) } {
                                (csrf_input(&viewer))
                                button type="submit" { "End" }
                            }
                        }
                    }
                }
            } }
        }
        (alerts_section(&state, &viewer, me.email.is_some(), &subscriptions, &orgs))
        h2 { "Change password" }
        form.stacked method="post" action="/account/password" {
            (csrf_input(&viewer))
            label for="current_password" { "Current password" }
            input #current_password type="password" name="current_password" autocomplete="current-password" required;
            label for="new_password" { "New password" }
            input #new_password type="password" name="new_password" autocomplete="new-password" required minlength=(state.config.accounts.password_min_length);
            @if me.two_factor {
                label for="otp" { "One-time code" }
                input #otp type="text" name="otp" inputmode="numeric" autocomplete="one-time-code" required;
            }
            button type="submit" { "Change password" }
        }
    };
    Ok(page(&state, &viewer, "/account", "Your account", body))
}

/// The viewer's e-mail alert subscriptions and a form for a new one.
fn alerts_section(
    state: &AppState,
    viewer: &Viewer,
    has_email: bool,
    subscriptions: &[SubscriptionOut],
    orgs: &[(i32, String)],
) -> Markup {
    html! {
        h2 { "E-mail alerts" }
        @if subscriptions.is_empty() { p { "You are not subscribed to any alerts." } } @else {
            table {
                thead { tr { th { "Organisation and below" } th { "Events" } th { "Offline after" } th { "" } } }
                tbody { @for sub in subscriptions {
                    tr {
                        td { (org_label(orgs, sub.organisation_id)) }
                        td { (super::organisations::event_names(&sub.events)) }
                        td { (sub.offline_after_s) " s" }
                        td {
                            form.inline method="post" action={ "/account/subscriptions/" (sub.id) "/delete" } {
                                (csrf_input(viewer))
                                button type="submit" { "Unsubscribe" }
                            }
                        }
                    }
                } }
            }
        }
        @if state.mailer.is_none() {
            p { "This server sends no e-mail ([smtp] is not configured)." }
        } @else if !has_email {
            p { "Your account has no e-mail address to send alerts to." }
        } @else {
            form.stacked method="post" action="/account/subscriptions" {
                (csrf_input(viewer))
                label for="sub_org" { "Alerts about the chargers you may read in" }
                select #sub_org name="organisation_id" required {
                    @for (id, name) in orgs { option value=(id) { (name) } }
                }
                (super::organisations::event_boxes("account"))
                label for="offline_after_s" { "Offline for at least (seconds)" }
                input #offline_after_s name="offline_after_s" type="number" min="0" max="86400" value="300";
                button type="submit" { "Subscribe" }
            }
        }
    }
}

/// `POST /account/password`: other sessions end; this one stays.
pub async fn change_password(State(state): State<AppState>, s: Submitted<PasswordForm>) -> PageResult {
    let change = PasswordChange {
        current_password: s.form.current_password,
        new_password: s.form.new_password,
        otp: Some(s.form.otp).filter(|c| !c.trim().is_empty()),
    };
    let outcome = auth::change_password(&state, &s.viewer.principal, &s.viewer.token, change)
        .await
        .map(|()| "Password changed; your other sessions have ended.".to_owned());
    after_form(&state, outcome, "/account")
}

/// `POST /account/sessions/{id}`: ends one of the user's own sessions.
pub async fn end_session(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<Empty>) -> PageResult {
    let outcome = sessions::end_own(&state, &s.viewer.principal, id)
        .await
        .map(|()| "Session ended.".to_owned());
    after_form(&state, outcome, "/account")
}

/// `POST /account/subscriptions`: `organisation_id`, `events` (repeated), `offline_after_s`.
pub async fn subscribe(State(state): State<AppState>, s: Submitted<Vec<(String, String)>>) -> PageResult {
    let outcome = match subscription_of(&s.form) {
        Ok(input) => webhooks::subscribe(&state, &s.viewer.principal, input)
            .await
            .map(|sub| format!("Subscribed: {} event kinds mailed to you.", sub.events.len())),
        Err(e) => Err(e),
    };
    after_form(&state, outcome, "/account")
}

fn subscription_of(form: &[(String, String)]) -> Result<NewSubscriptionIn, crate::services::Error> {
    let organisation_id = super::organisations::field(form, "organisation_id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| invalid("organisation_id", "choose an organisation"))?;
    let (events, offline_after_s) = super::organisations::alert_fields(form)?;
    Ok(NewSubscriptionIn {
        organisation_id,
        events,
        offline_after_s,
    })
}

/// `POST /account/subscriptions/{id}/delete`
pub async fn unsubscribe(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<Empty>) -> PageResult {
    let outcome = webhooks::unsubscribe(&state, &s.viewer.principal, id)
        .await
        .map(|()| "Unsubscribed.".to_owned());
    after_form(&state, outcome, "/account")
}
