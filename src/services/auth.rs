//! Login, logout, `me`, first-start bootstrap of the admin, and login throttling.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::users::MembershipOut;
use super::{Error, Result, Target, audit};
use crate::access::Principal;
use crate::config::Config;
use crate::crypto;
use crate::server::AppState;
use crate::store::Store;

/// `POST /api/v1/login`
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// One-time password, once two-factor authentication exists.
    pub otp: Option<String>,
}

/// A new bearer token.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
}

/// `GET /api/v1/me`
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i32,
    pub username: String,
    pub email: Option<String>,
    pub organisation_id: i32,
    pub memberships: Vec<MembershipOut>,
}

/// Failures per user name and per client address within a window.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    by_user: DashMap<String, Window>,
    by_addr: DashMap<IpAddr, Window>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    failures: u32,
    started: Instant,
}

const WINDOW: Duration = Duration::from_secs(15 * 60);
const USER_LIMIT: u32 = 5;
const ADDR_LIMIT: u32 = 20;
/// Past this many tracked keys, expired ones are dropped (bounds memory under a spray attack).
const PRUNE_AT: usize = 10_000;

impl LoginThrottle {
    /// `Err(seconds)` while either the user name or the address is locked out.
    fn check(&self, username: &str, addr: Option<IpAddr>) -> Result<(), u64> {
        let retry = |w: &Window, limit: u32| {
            let age = w.started.elapsed();
            (w.failures >= limit && age < WINDOW).then(|| (WINDOW - age).as_secs().max(1))
        };
        if let Some(s) = self.by_user.get(username).and_then(|w| retry(&w, USER_LIMIT)) {
            return Err(s);
        }
        if let Some(s) = addr
            .and_then(|a| self.by_addr.get(&a))
            .and_then(|w| retry(&w, ADDR_LIMIT))
        {
            return Err(s);
        }
        Ok(())
    }

    fn failure(&self, username: &str, addr: Option<IpAddr>) {
        fn bump(w: &mut Window) {
            if w.started.elapsed() >= WINDOW {
                *w = Window {
                    failures: 0,
                    started: Instant::now(),
                };
            }
            w.failures += 1;
        }
        let fresh = || Window {
            failures: 0,
            started: Instant::now(),
        };
        bump(&mut self.by_user.entry(username.to_owned()).or_insert_with(fresh));
        if let Some(a) = addr {
            bump(&mut self.by_addr.entry(a).or_insert_with(fresh));
        }
        if self.by_user.len() > PRUNE_AT {
            self.by_user.retain(|_, w| w.started.elapsed() < WINDOW);
        }
        if self.by_addr.len() > PRUNE_AT {
            self.by_addr.retain(|_, w| w.started.elapsed() < WINDOW);
        }
    }

    fn success(&self, username: &str) {
        self.by_user.remove(username);
    }
}

/// Checks a user name and password and issues a bearer token.
pub async fn login(state: &AppState, req: LoginRequest, addr: Option<IpAddr>) -> Result<LoginResponse> {
    if let Err(retry_after_s) = state.throttle.check(&req.username, addr) {
        return Err(Error::TooManyAttempts { retry_after_s });
    }
    let user = state.store.user_by_name(&req.username).await?;
    // Verify against a dummy hash for unknown users so both cases take the same time.
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| crypto::dummy_hash().to_owned());
    let matches = state.hasher.verify(req.password, hash).await;
    let user = match user {
        Some(u) if matches && !u.disabled => u,
        other => {
            state.throttle.failure(&req.username, addr);
            if let Some(u) = other {
                let p = Principal::new(u.id, u.username.clone(), Vec::new());
                let detail = if u.disabled { "disabled user" } else { "wrong password" };
                audit(
                    state,
                    &p,
                    "login",
                    Target::new(format!("user:{}", u.id)).org(u.organisation_id),
                    None,
                    "denied",
                    Some(detail.into()),
                )
                .await;
            }
            return Err(Error::InvalidCredentials);
        }
    };
    state.throttle.success(&req.username);
    let token = crypto::random_token(32);
    let expires_at = Utc::now() + chrono::Duration::seconds(state.config.api.token_ttl_s as i64);
    state
        .store
        .create_token(user.id, crypto::token_hash(&token), expires_at)
        .await?;
    Ok(LoginResponse { token, expires_at })
}

/// The principal behind a bearer token; any failure is the same `Unauthenticated`.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Principal> {
    state
        .store
        .principal_for_token(&crypto::token_hash(token))
        .await?
        .ok_or(Error::Unauthenticated)
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
        memberships: p.memberships().iter().map(MembershipOut::from).collect(),
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
    let hash = crypto::hash_password(&password).map_err(|e| anyhow::anyhow!("hashing the admin password: {e}"))?;
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
