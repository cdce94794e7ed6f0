//! `POST /login`, `POST /logout`, `GET /me`, and the caller's own account: password, sessions
//! and two-factor.

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{AnyAuth, Auth, ClientAddr, Json, Path};
use crate::services::auth::{self, LoginRequest, LoginResponse, Me, PasswordChange};
use crate::services::sessions::{self, SessionOut};
use crate::services::two_factor::{self, DisableIn, Enrolment, OtpIn, RecoveryCodes, Status};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(my_sessions))
        .routes(routes!(end_my_session))
        .routes(routes!(two_factor_status, enrol))
        .routes(routes!(confirm))
        .routes(routes!(disable))
        .routes(routes!(renew_recovery_codes))
}

/// Exchanges a user name, password and (with two-factor on) a one-time password for a token.
#[utoipa::path(post, path = "/api/v1/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, body = ErrorBody, description = "`invalid_credentials`, `otp_required` or `invalid_otp`"),
        (status = 429, body = ErrorBody, description = "`too_many_attempts`, with Retry-After")))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(ClientAddr(peer)): ConnectInfo<ClientAddr>,
    Json(req): Json<LoginRequest>,
) -> ApiResult<axum::Json<LoginResponse>> {
    Ok(axum::Json(auth::login(&state, req, Some(peer.ip())).await?))
}

/// Revokes the token used for this request.
#[utoipa::path(post, path = "/api/v1/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(State(state): State<AppState>, AnyAuth(auth): AnyAuth) -> ApiResult<StatusCode> {
    auth::logout(&state, &auth.token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's account and memberships.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, AnyAuth(auth): AnyAuth) -> ApiResult<axum::Json<Me>> {
    Ok(axum::Json(auth::me(&state, &auth.principal).await?))
}

/// Changes the caller's password; its other sessions end.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange, security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    auth: Auth,
    Json(req): Json<PasswordChange>,
) -> ApiResult<StatusCode> {
    auth::change_password(&state, &auth.principal, &auth.token, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = [SessionOut]), (status = 401, body = ErrorBody)))]
async fn my_sessions(State(state): State<AppState>, auth: Auth) -> ApiResult<axum::Json<Vec<SessionOut>>> {
    Ok(axum::Json(
        sessions::list_own(&state, &auth.principal, &auth.token).await?,
    ))
}

/// Ends one of the caller's sessions.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "auth", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn end_my_session(State(state): State<AppState>, auth: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    sessions::end_own(&state, &auth.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's two-factor state.
#[utoipa::path(get, path = "/api/v1/me/2fa", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Status), (status = 401, body = ErrorBody)))]
async fn two_factor_status(State(state): State<AppState>, AnyAuth(auth): AnyAuth) -> ApiResult<axum::Json<Status>> {
    Ok(axum::Json(two_factor::status(&state, &auth.principal).await?))
}

/// Starts two-factor enrolment: secret, otpauth URI and QR code (SVG).
#[utoipa::path(post, path = "/api/v1/me/2fa", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Enrolment), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn enrol(State(state): State<AppState>, AnyAuth(auth): AnyAuth) -> ApiResult<axum::Json<Enrolment>> {
    Ok(axum::Json(two_factor::enrol(&state, &auth.principal).await?))
}

/// Confirms enrolment with a first code; answers the recovery codes, shown only now.
#[utoipa::path(post, path = "/api/v1/me/2fa/confirm", tag = "auth", request_body = OtpIn, security(("bearer" = [])),
    responses((status = 200, body = RecoveryCodes), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn confirm(
    State(state): State<AppState>,
    AnyAuth(auth): AnyAuth,
    Json(req): Json<OtpIn>,
) -> ApiResult<axum::Json<RecoveryCodes>> {
    Ok(axum::Json(
        two_factor::confirm(&state, &auth.principal, &auth.token, &req.otp).await?,
    ))
}

/// Turns the caller's two-factor off (password and code needed; 403 where it is required).
#[utoipa::path(post, path = "/api/v1/me/2fa/disable", tag = "auth", request_body = DisableIn, security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn disable(State(state): State<AppState>, auth: Auth, Json(req): Json<DisableIn>) -> ApiResult<StatusCode> {
    two_factor::disable(&state, &auth.principal, req).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new set of recovery codes (the unused old ones stop working), shown only in this answer.
#[utoipa::path(post, path = "/api/v1/me/2fa/recovery-codes", tag = "auth", request_body = DisableIn, security(("bearer" = [])),
    responses((status = 200, body = RecoveryCodes), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn renew_recovery_codes(
    State(state): State<AppState>,
    auth: Auth,
    Json(req): Json<DisableIn>,
) -> ApiResult<axum::Json<RecoveryCodes>> {
    Ok(axum::Json(
        two_factor::renew_recovery_codes(&state, &auth.principal, req).await?,
    ))
}
