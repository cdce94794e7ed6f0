//! Sessions are API tokens: a user lists and ends its own; an operator lists and ends those of
//! the users it manages.

use chrono::{DateTime, Utc};
use entity::api_token;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::users::{managed, managed_fully};
use super::{Audit, Error, Result, Target};
use crate::access::Principal;
use crate::crypto;
use crate::state::AppState;

/// A session as its owner or an operator sees it (never the token).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionOut {
    pub id: i32,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Client address at login.
    pub address: Option<String>,
    /// `full`, or `enrol_2fa` (may only enrol two-factor).
    pub scope: String,
    /// The session making this request.
    pub current: bool,
}

fn out(t: api_token::Model, current_hash: Option<&str>) -> SessionOut {
    SessionOut {
        current: current_hash == Some(t.token_hash.as_str()),
        id: t.id,
        created_at: t.created_at,
        expires_at: t.expires_at,
        address: t.address,
        scope: t.scope,
    }
}

/// The caller's sessions.
pub async fn list_own(state: &AppState, p: &Principal, token: &str) -> Result<Vec<SessionOut>> {
    let id = p.user_id().ok_or(Error::Unauthenticated)?;
    let current = crypto::token_hash(token);
    let rows = state.store.sessions(id).await?;
    Ok(rows.into_iter().map(|t| out(t, Some(&current))).collect())
}

/// Ends one of the caller's sessions (404 if it is not the caller's).
pub async fn end_own(state: &AppState, p: &Principal, session_id: i32) -> Result<()> {
    let id = p.user_id().ok_or(Error::Unauthenticated)?;
    if !state.store.end_session(id, session_id).await? {
        return Err(Error::NotFound("session".into()));
    }
    Ok(())
}

/// The sessions of a user the caller manages.
pub async fn list_for(state: &AppState, p: &Principal, user_id: i32) -> Result<Vec<SessionOut>> {
    let (u, _) = managed(state, p, user_id, "user.sessions.read").await?;
    let rows = state.store.sessions(u.id).await?;
    Ok(rows.into_iter().map(|t| out(t, None)).collect())
}

/// Ends every session of a user the caller manages.
pub async fn end_all_for(state: &AppState, p: &Principal, user_id: i32) -> Result<u64> {
    let action = "user.sessions.revoke";
    let (u, auth) = managed_fully(state, p, user_id, action).await?;
    let ended = state.store.end_sessions(&auth, &u).await?;
    let target = Target::new(format!("user:{}", u.id)).org(u.organisation_id);
    Audit::new(p, action, target)
        .request(json!({"ended": ended}))
        .ok(state)
        .await;
    Ok(ended)
}
