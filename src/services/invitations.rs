//! Invitations and password resets: a single-use link (random token, stored hashed, with an
//! expiry) that lets a user set its password. The link goes by e-mail when SMTP is
//! configured and is returned to the operator who made it either way.

use chrono::{DateTime, Utc};
use entity::user;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::users::managed_fully;
use super::{Audit, Error, Result, Target, passwords};
use crate::access::{Authorized, Principal, cap};
use crate::crypto;
use crate::state::AppState;
use crate::store::{InvitationPurpose, InvitationState};

/// An invitation as the operator who made it sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOut {
    /// The link to hand to the user (it holds the token; it works once).
    pub url: String,
    /// The token alone, for `POST /api/v1/invitations/{token}`.
    pub token: String,
    pub purpose: &'static str,
    pub expires_at: DateTime<Utc>,
    /// True when the SMTP relay accepted the mail.
    pub emailed: bool,
    /// Why no mail went out (no SMTP configured, no address, relay error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_error: Option<String>,
}

/// `GET /api/v1/invitations/{token}`: what the link is for, before a password is chosen.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationInfo {
    pub username: String,
    pub purpose: String,
    pub expires_at: DateTime<Utc>,
}

/// `POST /api/v1/invitations/{token}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    pub password: String,
}

/// Makes an invitation (or reset link) for `u` and mails it when possible.
pub(crate) async fn issue(
    state: &AppState,
    p: &Principal,
    auth: &Authorized<cap::UsersManage>,
    u: &user::Model,
    purpose: InvitationPurpose,
) -> Result<InvitationOut> {
    let token = crypto::random_token(32);
    let expires_at = Utc::now() + chrono::Duration::seconds(state.config.accounts.invitation_ttl_s as i64);
    state
        .store
        .create_invitation(auth, u, purpose, crypto::token_hash(&token), p.user_id(), expires_at)
        .await?;
    let url = format!(
        "{}/invitations/{token}",
        state.config.api.public_url.trim_end_matches('/')
    );
    let email_error = match (&state.mailer, &u.email) {
        (None, _) => Some("no SMTP relay configured".to_owned()),
        (Some(_), None) => Some("the user has no e-mail address".to_owned()),
        (Some(mailer), Some(to)) => {
            let (subject, body) = message(state, p, u, purpose, &url, expires_at);
            mailer.send(to, &subject, body).await.err().map(|e| {
                tracing::warn!(user = u.id, error = %e, "invitation mail not sent");
                e.to_string()
            })
        }
    };
    Ok(InvitationOut {
        url,
        token,
        purpose: purpose.as_str(),
        expires_at,
        emailed: email_error.is_none(),
        email_error,
    })
}

fn message(
    state: &AppState,
    p: &Principal,
    u: &user::Model,
    purpose: InvitationPurpose,
    url: &str,
    expires_at: DateTime<Utc>,
) -> (String, String) {
    let issuer = &state.config.accounts.totp_issuer;
    let expires = expires_at.format("%Y-%m-%d %H:%M UTC");
    match purpose {
        InvitationPurpose::Invite => (
            format!("You are invited to {issuer}"),
            format!(
                "Hello {name},\n\n{by} created an account for you on {issuer} with the user name \
                 {name}.\nChoose your password here:\n\n{url}\n\nThe link works once and expires \
                 {expires}.\n",
                name = u.username,
                by = p.username(),
            ),
        ),
        InvitationPurpose::Reset => (
            format!("Reset your {issuer} password"),
            format!(
                "Hello {name},\n\n{by} asked for a new password for your {issuer} account \
                 {name}.\nChoose it here:\n\n{url}\n\nThe link works once and expires {expires}. \
                 Your current sessions end when the new password is set.\n",
                name = u.username,
                by = p.username(),
            ),
        ),
    }
}

/// An operator sends a user a password-reset link. Not to itself: the link is in the answer,
/// so it would change the password without the current one (`/me/password` asks for it).
pub async fn reset_password(state: &AppState, p: &Principal, user_id: i32) -> Result<InvitationOut> {
    let action = "user.password_reset";
    let (u, auth) = managed_fully(state, p, user_id, action).await?;
    super::users::not_self(state, p, &u, action).await?;
    let purpose = if u.password_hash.is_some() {
        InvitationPurpose::Reset
    } else {
        InvitationPurpose::Invite
    };
    let out = issue(state, p, &auth, &u, purpose).await?;
    let target = Target::new(format!("user:{}", u.id)).org(u.organisation_id);
    Audit::new(p, action, target)
        .request(json!({"emailed": out.emailed}))
        .ok(state)
        .await;
    Ok(out)
}

/// The invitation behind a token and its user (404 unknown, 410 used or expired).
async fn usable(state: &AppState, token: &str) -> Result<(entity::invitation::Model, user::Model)> {
    let inv = match state.store.invitation(&crypto::token_hash(token)).await? {
        None => return Err(Error::NotFound("invitation".into())),
        Some((_, InvitationState::Used)) => return Err(Error::Gone("this link was already used".into())),
        Some((_, InvitationState::Expired)) => {
            return Err(Error::Gone("this link has expired; ask for a new one".into()));
        }
        Some((inv, InvitationState::Usable)) => inv,
    };
    let u = state
        .store
        .user(inv.user_id)
        .await?
        .ok_or_else(|| Error::NotFound("invitation".into()))?;
    Ok((inv, u))
}

/// What a link is for (404 unknown, 410 used or expired).
pub async fn describe(state: &AppState, token: &str) -> Result<InvitationInfo> {
    let (inv, u) = usable(state, token).await?;
    Ok(InvitationInfo {
        username: u.username,
        purpose: inv.purpose,
        expires_at: inv.expires_at,
    })
}

/// Sets the password through a link; every session of the user ends.
pub async fn accept(state: &AppState, token: &str, input: AcceptInvitation) -> Result<InvitationInfo> {
    let (inv, u) = usable(state, token).await?;
    let hash = passwords::hash_for(state, &input.password, &u).await?;
    let Some(u) = state.store.accept_invitation(&crypto::token_hash(token), hash).await? else {
        return Err(Error::Gone("this link was already used".into()));
    };
    let p = Principal::new(u.id, u.username.clone(), Vec::new());
    let target = Target::new(format!("user:{}", u.id)).org(u.organisation_id);
    Audit::new(&p, "user.password_set", target)
        .request(json!({"via": inv.purpose}))
        .ok(state)
        .await;
    Ok(InvitationInfo {
        username: u.username,
        purpose: inv.purpose,
        expires_at: inv.expires_at,
    })
}
