//! TOTP two-factor authentication (RFC 6238, 6 digits, 30 s, SHA-1 as every authenticator
//! app supports): enrolment with a QR code, confirmation with a first code, single-use
//! recovery codes, and codes accepted at most once.

use entity::user;
use serde::{Deserialize, Serialize};
use totp_rs::{Secret, Totp};
use utoipa::ToSchema;

use super::users::managed_fully;
use super::{Audit, Error, Result, Target, invalid, refused};
use crate::access::{AccessError, Principal};
use crate::crypto;
use crate::state::AppState;

/// Recovery codes handed out at confirmation.
const RECOVERY_CODES: usize = 10;

/// `POST /api/v1/me/2fa`: what an authenticator app needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enrolment {
    /// Base32 secret, for typing in by hand.
    pub secret: String,
    /// `otpauth://totp/...` URI (what the QR code holds).
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// A one-time password from the authenticator app (or, at login, a recovery code).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtpIn {
    pub otp: String,
}

/// `POST /api/v1/me/2fa/disable` and `POST /api/v1/me/2fa/recovery-codes`: the password and a
/// code again.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableIn {
    pub password: String,
    /// A current code or a recovery code.
    pub otp: String,
}

/// Shown once, at confirmation: each works once in place of a code.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// `GET /api/v1/me/2fa`
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    pub enabled: bool,
    /// Enrolment started but not confirmed with a first code.
    pub pending: bool,
    pub recovery_codes_left: u64,
    /// The organisation whose policy requires two-factor for this user, if any.
    pub required_by: Option<i32>,
}

fn totp(state: &AppState, account: &str, secret_b32: &str) -> Result<Totp> {
    let secret =
        Secret::try_from_base32(secret_b32).map_err(|e| Error::Internal(format!("stored TOTP secret: {e}")))?;
    // ':' separates issuer and account in the otpauth label.
    let issuer = state.config.accounts.totp_issuer.replace(':', "_");
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account.replace(':', "_"))
        .with_issuer(Some(issuer))
        .build()
        .map_err(|e| Error::Internal(format!("TOTP: {e}")))
}

async fn own_user(state: &AppState, p: &Principal) -> Result<user::Model> {
    let id = p.user_id().ok_or(Error::Unauthenticated)?;
    state.store.user(id).await?.ok_or(Error::Unauthenticated)
}

fn target(u: &user::Model) -> Target {
    Target::new(format!("user:{}", u.id)).org(u.organisation_id)
}

/// Normalises a recovery code as typed: case, spaces and dashes do not matter.
fn normalise_recovery_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn new_recovery_code() -> String {
    let raw = crypto::random_hex(8);
    format!("{}-{}-{}-{}", &raw[0..4], &raw[4..8], &raw[8..12], &raw[12..16])
}

/// Whether `code` is a valid, unused TOTP code (consumed now) or recovery code (used up).
pub async fn verify_second_factor(state: &AppState, u: &user::Model, code: &str) -> Result<bool> {
    let Some(secret) = u.totp_secret.as_deref() else {
        return Ok(false);
    };
    let code = code.trim();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        let now = chrono::Utc::now().timestamp().max(0) as u64;
        let Some(step) = totp(state, &u.username, secret)?.check(code, now) else {
            return Ok(false);
        };
        return Ok(state.store.claim_totp_step(u.id, step as i64).await?);
    }
    let normalised = normalise_recovery_code(code);
    if normalised.len() != 16 {
        return Ok(false);
    }
    Ok(state
        .store
        .use_recovery_code(u.id, &crypto::token_hash(&normalised))
        .await?)
}

/// The caller's two-factor state.
pub async fn status(state: &AppState, p: &Principal) -> Result<Status> {
    let u = own_user(state, p).await?;
    Ok(Status {
        enabled: u.totp_confirmed_at.is_some(),
        pending: u.totp_secret.is_some() && u.totp_confirmed_at.is_none(),
        recovery_codes_left: state.store.recovery_codes_left(u.id).await?,
        required_by: state.store.two_factor_required_by(&u).await?.map(|o| o.id),
    })
}

/// Starts enrolment: a fresh secret (replacing an unconfirmed one). 409 once confirmed.
pub async fn enrol(state: &AppState, p: &Principal) -> Result<Enrolment> {
    let u = own_user(state, p).await?;
    if u.totp_confirmed_at.is_some() {
        return Err(Error::Conflict(
            "two-factor authentication is already on; turn it off first to enrol a new device".into(),
        ));
    }
    let secret = Secret::from(crypto::random_bytes::<20>()).to_base32();
    let otpauth_uri = totp(state, &u.username, &secret)?
        .to_url()
        .map_err(|e| Error::Internal(format!("otpauth URI: {e}")))?;
    let qr_svg = qrcode::QrCode::new(otpauth_uri.as_bytes())
        .map_err(|e| Error::Internal(format!("QR code: {e}")))?
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .build();
    state.store.begin_totp(u.id, &secret).await?;
    Audit::new(p, "user.2fa.enrol", target(&u)).ok(state).await;
    Ok(Enrolment {
        secret,
        otpauth_uri,
        qr_svg,
    })
}

/// Confirms enrolment with a first code; returns the recovery codes (shown only now). The
/// session that confirms becomes a full one.
pub async fn confirm(state: &AppState, p: &Principal, token: &str, otp: &str) -> Result<RecoveryCodes> {
    let u = own_user(state, p).await?;
    if u.totp_confirmed_at.is_some() {
        return Err(Error::Conflict("two-factor authentication is already on".into()));
    }
    let Some(secret) = u.totp_secret.clone() else {
        return Err(invalid("otp", "start enrolment first (POST /api/v1/me/2fa)"));
    };
    if !verify_second_factor(state, &u, otp).await? {
        Audit::new(p, "user.2fa.confirm", target(&u))
            .detail("wrong code")
            .denied(state)
            .await;
        return Err(invalid(
            "otp",
            "wrong or already used code; enter the current one from your app",
        ));
    }
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes = codes
        .iter()
        .map(|c| crypto::token_hash(&normalise_recovery_code(c)))
        .collect();
    if !state
        .store
        .confirm_totp(u.id, &secret, hashes, &crypto::token_hash(token))
        .await?
    {
        return Err(Error::Conflict(
            "enrolment changed meanwhile; start again (POST /api/v1/me/2fa)".into(),
        ));
    }
    Audit::new(p, "user.2fa.confirm", target(&u)).ok(state).await;
    Ok(RecoveryCodes { recovery_codes: codes })
}

/// Turns the caller's two-factor off, with its password and a code; refused (403) while an
/// organisation's policy requires it.
pub async fn disable(state: &AppState, p: &Principal, input: DisableIn) -> Result<()> {
    let action = "user.2fa.disable";
    let u = own_user(state, p).await?;
    if u.totp_secret.is_none() {
        return Ok(());
    }
    if state.store.two_factor_required_by(&u).await?.is_some() {
        return Err(refused(state, p, action, target(&u), AccessError::Forbidden.into()).await);
    }
    proven(state, p, &u, input, action).await?;
    state.store.clear_totp(u.id).await?;
    Audit::new(p, action, target(&u)).ok(state).await;
    Ok(())
}

/// A new set of recovery codes for the caller (the unused old ones stop working), with its
/// password and a code; shown only in this answer. 409 without two-factor on.
pub async fn renew_recovery_codes(state: &AppState, p: &Principal, input: DisableIn) -> Result<RecoveryCodes> {
    let action = "user.2fa.recovery_codes";
    let u = own_user(state, p).await?;
    if u.totp_confirmed_at.is_none() {
        return Err(Error::Conflict("two-factor authentication is not on".into()));
    }
    proven(state, p, &u, input, action).await?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes = codes
        .iter()
        .map(|c| crypto::token_hash(&normalise_recovery_code(c)))
        .collect();
    state.store.renew_recovery_codes(u.id, hashes).await?;
    Audit::new(p, action, target(&u)).ok(state).await;
    Ok(RecoveryCodes { recovery_codes: codes })
}

/// The caller proved it is the user again: its password and a current (or recovery) code.
async fn proven(state: &AppState, p: &Principal, u: &user::Model, input: DisableIn, action: &str) -> Result<()> {
    let hash = u
        .password_hash
        .clone()
        .unwrap_or_else(|| state.hasher.dummy_hash().to_owned());
    let password_ok = state.hasher.verify(input.password, hash).await;
    if !password_ok || !verify_second_factor(state, u, &input.otp).await? {
        Audit::new(p, action, target(u))
            .detail("wrong password or code")
            .denied(state)
            .await;
        return Err(Error::InvalidOtp);
    }
    Ok(())
}

/// An operator removes a user's two-factor (lost phone): the user enrols again at its next
/// login; its sessions end at once. Nobody resets their own.
pub async fn reset(state: &AppState, p: &Principal, user_id: i32) -> Result<()> {
    let action = "user.2fa.reset";
    let (u, auth) = managed_fully(state, p, user_id, action).await?;
    if p.user_id() == Some(u.id) {
        return Err(refused(state, p, action, target(&u), AccessError::Forbidden.into()).await);
    }
    state.store.clear_totp(u.id).await?;
    state.store.end_sessions(&auth, &u).await?;
    Audit::new(p, action, target(&u)).ok(state).await;
    Ok(())
}
