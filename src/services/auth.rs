//! Login, logout, `me`, first-start bootstrap of the admin, and login throttling.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use entity::user;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::users::MembershipOut;
use super::{Audit, Error, Result, Target, passwords, two_factor};
use crate::access::Principal;
use crate::config::Config;
use crate::crypto;
use crate::state::AppState;
use crate::store::{SCOPE_ENROL_2FA, SCOPE_FULL, Store};

/// How long a token that may only enrol two-factor lives.
const ENROL_TOKEN_TTL_S: i64 = 15 * 60;

/// `POST /api/v1/login`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// Code from the authenticator app, or a recovery code; required once two-factor is on.
    pub otp: Option<String>,
}

/// A new bearer token.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    /// `full`; or `enrol_2fa` when an organisation requires two-factor and the user has none
    /// yet: the token then reaches only `/api/v1/me`, `/api/v1/me/2fa*` and `/api/v1/logout`.
    pub scope: String,
}

/// `POST /api/v1/me/password`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
    /// A fresh one-time (or recovery) code, required when two-factor is on.
    #[serde(default)]
    pub otp: Option<String>,
}

/// Who a token belongs to and what it may do.
#[derive(Debug)]
pub struct Session {
    pub principal: Principal,
    /// False for a token that may only enrol two-factor.
    pub full: bool,
}

/// `GET /api/v1/me`
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i32,
    pub username: String,
    pub email: Option<String>,
    pub organisation_id: i32,
    pub memberships: Vec<MembershipOut>,
    pub two_factor: bool,
}

/// Checks a user name, password and (when two-factor is on) one-time password, and issues a
/// bearer token. Wrong passwords and wrong codes count towards the login throttle.
pub async fn login(state: &AppState, req: LoginRequest, addr: Option<IpAddr>) -> Result<LoginResponse> {
    // No user name is longer (users.rs); refusing here keeps junk out of the throttle's map.
    if req.username.len() > 64 {
        return Err(Error::InvalidCredentials);
    }
    let attempt = state
        .throttle
        .begin(&req.username, addr)
        .map_err(|retry_after_s| Error::TooManyAttempts { retry_after_s })?;
    let user = state.store.user_by_name(&req.username).await?;
    // Verify against a dummy hash (same parameters) for unknown users so both take as long.
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| state.hasher.dummy_hash().to_owned());
    let matches = state.hasher.verify(req.password, hash).await;
    let user = match user {
        Some(u) if matches && !u.disabled => u,
        other => {
            attempt.failed();
            if let Some(u) = other {
                let detail = if u.disabled { "disabled user" } else { "wrong password" };
                login_denied(state, &u, detail);
            }
            return Err(Error::InvalidCredentials);
        }
    };
    let scope = if user.totp_confirmed_at.is_some() {
        let Some(otp) = req.otp.as_deref().filter(|o| !o.trim().is_empty()) else {
            return Err(Error::OtpRequired);
        };
        if !two_factor::verify_second_factor(state, &user, otp).await? {
            attempt.failed();
            login_denied(state, &user, "wrong or reused one-time password");
            return Err(Error::InvalidOtp);
        }
        SCOPE_FULL
    } else if state.store.two_factor_required_by(&user).await?.is_some() {
        SCOPE_ENROL_2FA
    } else {
        SCOPE_FULL
    };
    attempt.succeeded();
    let token = crypto::random_token(32);
    let ttl = match scope {
        SCOPE_FULL => state.config.api.token_ttl_s as i64,
        _ => ENROL_TOKEN_TTL_S.min(state.config.api.token_ttl_s as i64),
    };
    let expires_at = Utc::now() + chrono::Duration::seconds(ttl);
    state
        .store
        .create_token(
            user.id,
            crypto::token_hash(&token),
            expires_at,
            scope,
            addr.map(|a| a.to_string()),
        )
        .await?;
    Ok(LoginResponse {
        token,
        expires_at,
        scope: scope.to_owned(),
    })
}

/// Audits a refused login in the background: awaiting the write would make answers about
/// existing users slower than about unknown ones.
fn login_denied(state: &AppState, u: &user::Model, detail: &'static str) {
    let p = Principal::new(u.id, u.username.clone(), Vec::new());
    let target = Target::new(format!("user:{}", u.id)).org(u.organisation_id);
    let state = state.clone();
    tokio::spawn(async move { Audit::new(&p, "login", target).detail(detail).denied(&state).await });
}

/// The session behind a bearer token; any failure is the same `Unauthenticated`.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Session> {
    let (principal, scope) = state
        .store
        .principal_for_token(&crypto::token_hash(token))
        .await?
        .ok_or(Error::Unauthenticated)?;
    Ok(Session {
        principal,
        full: scope == SCOPE_FULL,
    })
}

/// Changes the caller's own password (the current one is required); its other sessions end.
pub async fn change_password(state: &AppState, p: &Principal, token: &str, req: PasswordChange) -> Result<()> {
    let action = "user.password_change";
    let id = p.user_id().ok_or(Error::Unauthenticated)?;
    let u = state.store.user(id).await?.ok_or(Error::Unauthenticated)?;
    let target = Target::new(format!("user:{}", u.id)).org(u.organisation_id);
    confirm_identity(
        state,
        p,
        &u,
        action,
        target.clone(),
        Some(&req.current_password),
        req.otp.as_deref(),
    )
    .await?;
    let new_hash = passwords::hash_for(state, &req.new_password, &u).await?;
    state
        .store
        .change_own_password(u.id, new_hash, &crypto::token_hash(token))
        .await?;
    Audit::new(p, action, target).ok(state).await;
    Ok(())
}

/// A user changing its own credentials proves it is itself, not someone holding its token:
/// the current password, and a fresh code where two-factor is on. Refusals are audited.
pub(crate) async fn confirm_identity(
    state: &AppState,
    p: &Principal,
    u: &user::Model,
    action: &str,
    target: Target,
    current_password: Option<&str>,
    otp: Option<&str>,
) -> Result<()> {
    let Some(current) = current_password else {
        return Err(super::invalid(
            "current_password",
            "required to change your own password or e-mail",
        ));
    };
    let hash = u
        .password_hash
        .clone()
        .unwrap_or_else(|| state.hasher.dummy_hash().to_owned());
    if !state.hasher.verify(current.to_owned(), hash).await {
        Audit::new(p, action, target)
            .detail("wrong current password")
            .denied(state)
            .await;
        return Err(super::invalid("current_password", "is not your current password"));
    }
    if u.totp_confirmed_at.is_some() {
        let Some(code) = otp else {
            return Err(Error::OtpRequired);
        };
        if !two_factor::verify_second_factor(state, u, code).await? {
            Audit::new(p, action, target)
                .detail("wrong one-time password")
                .denied(state)
                .await;
            return Err(Error::InvalidOtp);
        }
    }
    Ok(())
}

/// Revokes the token used for this request.
pub async fn logout(state: &AppState, token: &str) -> Result<()> {
    Ok(state.store.revoke_token(&crypto::token_hash(token)).await?)
}

/// The caller's own account.
pub async fn me(state: &AppState, p: &Principal) -> Result<Me> {
    let id = p.user_id().ok_or(Error::Unauthenticated)?;
    let user = state.store.user(id).await?.ok_or(Error::Unauthenticated)?;
    Ok(Me {
        id: user.id,
        username: user.username,
        email: user.email,
        organisation_id: user.organisation_id,
        memberships: p.granted().iter().map(MembershipOut::from).collect(),
        two_factor: user.totp_confirmed_at.is_some(),
    })
}

/// First start against an empty database: the root organisation and the operator `admin`.
/// Never touches an existing admin.
pub async fn bootstrap(store: &Store, config: &Config) -> anyhow::Result<()> {
    let root = store
        .ensure_root_organisation(&config.bootstrap.root_organisation)
        .await?;
    if store.has_users().await? {
        return Ok(());
    }
    let (password, generated) = match &config.bootstrap.admin_password {
        Some(p) => (p.expose().to_owned(), false),
        None => (crypto::random_token(18), true),
    };
    let hash = crypto::hash_password_with(&password, config.accounts.argon2_params()?)
        .map_err(|e| anyhow::anyhow!("hashing the admin password: {e}"))?;
    store.bootstrap_admin(&root, hash).await?;
    if generated {
        // Printed once, to stdout, on purpose: it is the only way in on a fresh install.
        println!(
            "voltgate: created operator 'admin' on organisation {} with password: {password}",
            root.name
        );
    } else {
        tracing::info!("created operator 'admin' with the configured bootstrap password");
    }
    Ok(())
}
