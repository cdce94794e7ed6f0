//! Log in (password and, with two-factor on, a one-time code), log out, and two-factor
//! enrolment for users whose organisation requires it.

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use maud::{Markup, html};
use serde::Deserialize;

use super::Empty;
use crate::console::layout::{csrf_input, html_response, page, shell};
use crate::console::session::{
    CSRF_FIELD, Enrolling, LOGIN_COOKIE, SESSION_COOKIE, Submitted, Viewer, cookie, read_cookie, read_form, removal,
    same_origin, same_token, secure,
};
use crate::console::{ConsoleError, PageResult};
use crate::crypto;
use crate::http::error::ApiError;
use crate::http::extract::ClientAddr;
use crate::services::auth::{self, LoginRequest};
use crate::services::two_factor::{self, DisableIn};
use crate::state::AppState;
use crate::store::SCOPE_FULL;

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    otp: String,
}

/// The one-time code of the enrolment confirmation.
#[derive(Debug, Deserialize)]
pub struct OtpForm {
    #[serde(default)]
    otp: String,
}

fn login_page(csrf: &str, username: &str, error: Option<&str>) -> Markup {
    shell(
        "Log in",
        html! {
            main.login {
                h1 { "voltgate" }
                p { "Back-office console. Log in with your voltgate account." }
                @if let Some(e) = error { p.flash.bad role="alert" { (e) } }
                form method="post" action="/login" {
                    input type="hidden" name=(CSRF_FIELD) value=(csrf);
                    label for="username" { "User name" }
                    input #username name="username" autocomplete="username" required value=(username);
                    label for="password" { "Password" }
                    input #password type="password" name="password" autocomplete="current-password" required;
                    label for="otp" { "One-time code " small { "(only with two-factor on: from your app, or a recovery code)" } }
                    input #otp name="otp" inputmode="numeric" autocomplete="one-time-code";
                    button type="submit" { "Log in" }
                }
            }
        },
    )
}

/// `GET /login`: the form, with a fresh double-submit token.
pub async fn form(State(state): State<AppState>) -> Response {
    let csrf = crypto::random_token(24);
    let jar = CookieJar::new().add(cookie(LOGIN_COOKIE, csrf.clone(), secure(&state), Some(3600)));
    (jar, html_response(StatusCode::OK, login_page(&csrf, "", None))).into_response()
}

/// `POST /login`: a session cookie on success, the form again with the reason otherwise.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    jar: CookieJar,
    request: axum::extract::Request,
) -> PageResult {
    let (parts, body) = request.into_parts();
    let (csrf, form) = read_form::<LoginForm>(body).await?;
    let expected = read_cookie(&jar, LOGIN_COOKIE, secure(&state)).unwrap_or_default();
    let why = if !same_origin(&parts, &state) {
        Some("cross-site login form")
    } else if !same_token(&csrf, &expected) {
        Some("missing or wrong login CSRF token")
    } else {
        None
    };
    if let Some(why) = why {
        // Nobody is signed in yet: the row names the address instead of a user.
        let entry = crate::store::AuditEntry {
            user_id: None,
            action: "console.login".into(),
            organisation_id: None,
            charger_id: None,
            resource: Some(format!("address:{}", peer.ip())),
            request: None,
            outcome: "denied".into(),
            detail: Some(why.into()),
        };
        if let Err(e) = state.store.record_audit(entry).await {
            tracing::error!(error = %e, "could not write the audit log");
        }
        return Err(ConsoleError::Csrf);
    }
    let form = form?;
    let request = LoginRequest {
        username: form.username.trim().to_owned(),
        password: form.password,
        otp: Some(form.otp.trim().to_owned()).filter(|o| !o.is_empty()),
    };
    match auth::login(&state, request, Some(peer.ip())).await {
        Ok(session) => {
            // A new login replaces the browser's previous session rather than leaving it alive.
            if let Some(old) = read_cookie(&jar, SESSION_COOKIE, secure(&state)) {
                let _ = auth::logout(&state, &old).await;
            }
            let max_age = (session.expires_at - Utc::now()).num_seconds();
            let jar = jar
                .add(cookie(SESSION_COOKIE, session.token, secure(&state), Some(max_age)))
                .add(removal(LOGIN_COOKIE, secure(&state)));
            let to = if session.scope == SCOPE_FULL {
                "/"
            } else {
                "/account/2fa"
            };
            Ok((jar, Redirect::to(to)).into_response())
        }
        Err(e) => {
            let e = ApiError::from(e);
            let page = login_page(&expected, &form.username, Some(e.message()));
            let mut response = html_response(e.status(), page);
            if let Some(s) = e.retry_after_s() {
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
            }
            Ok(response)
        }
    }
}

/// `POST /logout`: revokes the session and forgets the cookie.
pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    submitted: Submitted<Empty, Enrolling>,
) -> PageResult {
    auth::logout(&state, &submitted.viewer.0.token).await?;
    let jar = jar.add(removal(SESSION_COOKIE, secure(&state)));
    Ok((jar, Redirect::to("/login")).into_response())
}

fn enrolment_page(viewer: &Enrolling, title: &str, body: Markup) -> Response {
    html_response(
        StatusCode::OK,
        shell(
            title,
            html! {
                main {
                    h1 { (title) }
                    (body)
                    form.logout method="post" action="/logout" {
                        (csrf_input(&viewer.0))
                        button type="submit" { "Log out" }
                    }
                }
            },
        ),
    )
}

/// `GET /account/2fa`: the user's two-factor state, and a way to turn it on.
pub async fn two_factor(State(state): State<AppState>, viewer: Enrolling) -> PageResult {
    let status = two_factor::status(&state, &viewer.0.principal).await?;
    let body = html! {
        @if status.enabled {
            p { "Two-factor authentication is on. " (status.recovery_codes_left) " recovery codes left." }
            h2 { "New recovery codes" }
            p { "The codes you have stop working; the new ones are shown once." }
            (credentials_form(&viewer.0, "/account/2fa/recovery-codes", "codes", "Make new recovery codes"))
            h2 { "Turn two-factor off" }
            @if status.required_by.is_some() {
                p { "Your organisation requires two-factor authentication: it cannot be turned off." }
            } @else {
                (credentials_form(&viewer.0, "/account/2fa/disable", "off", "Turn two-factor off"))
            }
            p { a href="/account" { "Back to your account" } }
        } @else {
            @if status.required_by.is_some() {
                p.flash.bad role="alert" { "Your organisation requires two-factor authentication: set it up to continue." }
            }
            p { "Use an authenticator app (TOTP, RFC 6238) for a one-time code at each login." }
            form method="post" action="/account/2fa" {
                (csrf_input(&viewer.0))
                button type="submit" { "Set up two-factor authentication" }
            }
        }
    };
    Ok(enrolment_page(&viewer, "Two-factor authentication", body))
}

/// The password and a code, asked again before two-factor changes.
fn credentials_form(viewer: &Viewer, action: &str, prefix: &str, submit: &str) -> Markup {
    html! {
        form.stacked method="post" action=(action) {
            (csrf_input(viewer))
            label for={ (prefix) "-password" } { "Your password" }
            input id={ (prefix) "-password" } type="password" name="password" autocomplete="current-password" required;
            label for={ (prefix) "-otp" } { "A code from your app " small { "(or a recovery code)" } }
            input id={ (prefix) "-otp" } name="otp" inputmode="numeric" autocomplete="one-time-code" required;
            button type="submit" { (submit) }
        }
    }
}

/// The password-and-code form.
#[derive(Debug, Deserialize)]
pub struct CredentialsForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    otp: String,
}

impl From<CredentialsForm> for DisableIn {
    fn from(f: CredentialsForm) -> Self {
        Self {
            password: f.password,
            otp: f.otp.trim().to_owned(),
        }
    }
}

/// `POST /account/2fa/disable`
pub async fn disable(State(state): State<AppState>, s: Submitted<CredentialsForm>) -> PageResult {
    let outcome = two_factor::disable(&state, &s.viewer.principal, s.form.into())
        .await
        .map(|()| "Two-factor authentication is off.".to_owned());
    super::after_form(&state, outcome, "/account/2fa")
}

/// `POST /account/2fa/recovery-codes`: the new codes on the page, once.
pub async fn recovery_codes(State(state): State<AppState>, s: Submitted<CredentialsForm>) -> PageResult {
    let codes = match two_factor::renew_recovery_codes(&state, &s.viewer.principal, s.form.into()).await {
        Ok(codes) => codes,
        Err(e) => return super::after_form(&state, Err::<String, _>(e), "/account/2fa"),
    };
    let body = html! {
        p { "Your old recovery codes no longer work. Keep these somewhere safe: each works once, in place of a code. They are not shown again." }
        ul.codes { @for c in &codes.recovery_codes { li { code { (c) } } } }
        p { a href="/account/2fa" { "Back" } }
    };
    let mut response = page(&state, &s.viewer, "/account", "New recovery codes", body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /account/2fa`: a new secret, shown as a QR code and as text, and the confirmation form.
pub async fn enrol(State(state): State<AppState>, submitted: Submitted<Empty, Enrolling>) -> PageResult {
    let viewer = submitted.viewer;
    let enrolment = two_factor::enrol(&state, &viewer.0.principal).await?;
    let qr = format!("data:image/svg+xml;base64,{}", STANDARD.encode(&enrolment.qr_svg));
    let body = html! {
        p { "Scan this code with your authenticator app, then enter the code it shows." }
        img.qr src=(qr) alt="QR code of the two-factor secret" width="220" height="220";
        p { "Or type the secret in by hand: " code { (enrolment.secret) } }
        form method="post" action="/account/2fa/confirm" {
            (csrf_input(&viewer.0))
            label for="otp" { "Code from the app" }
            input #otp name="otp" inputmode="numeric" autocomplete="one-time-code" required;
            button type="submit" { "Confirm" }
        }
    };
    Ok(enrolment_page(&viewer, "Set up two-factor authentication", body))
}

/// `POST /account/2fa/confirm`: turns two-factor on and shows the recovery codes, once.
pub async fn confirm(State(state): State<AppState>, submitted: Submitted<OtpForm, Enrolling>) -> PageResult {
    let viewer = submitted.viewer;
    let codes = two_factor::confirm(&state, &viewer.0.principal, &viewer.0.token, submitted.form.otp.trim()).await?;
    let body = html! {
        p { "Two-factor authentication is on. Keep these recovery codes somewhere safe: each works once, in place of a code, if you lose your phone. They are not shown again." }
        ul.codes { @for c in &codes.recovery_codes { li { code { (c) } } } }
        p { a href="/" { "Continue to the dashboard" } }
    };
    Ok(enrolment_page(&viewer, "Recovery codes", body))
}
