//! `/account`: the signed-in user's own account: its sessions (end any of them), its password
//! (changing it ends the other sessions) and a way to its two-factor settings.

use axum::extract::State;
use maud::html;
use serde::Deserialize;

use super::{Empty, after_form};
use crate::console::PageResult;
use crate::console::layout::{csrf_input, or_dash, page, when};
use crate::console::session::{Submitted, Viewer};
use crate::http::extract::Path;
use crate::services::auth::{self, PasswordChange};
use crate::services::sessions;
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
