//! `/api/v1/users`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, JsonList, Path};
use crate::services::invitations::{self, InvitationOut};
use crate::services::sessions::{self, SessionOut};
use crate::services::two_factor;
use crate::services::users::{self as svc, MembershipIn, NewUser, UserOut, UserPatch};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(memberships))
        .routes(routes!(user_sessions, end_user_sessions))
        .routes(routes!(reset_two_factor))
        .routes(routes!(password_reset))
}

list_op!(
    /// Users managed by the caller (operators only).
    "/api/v1/users", "users", UserOut, |s, p, q| svc::list(s, p, q)
);
create_op!(
    /// Creates a user in a home organisation of the caller's operator subtree.
    "/api/v1/users", "users", NewUser => UserOut, |s, p, b| svc::create(s, p, b)
);
get_op!(
    /// One user.
    "/api/v1/users/{id}", "users", i32 => UserOut, |s, p, id| svc::get(s, p, id)
);
update_op!(
    /// Changes e-mail, password or disabled flag; disabling ends its sessions at once.
    "/api/v1/users/{id}", "users", i32, UserPatch => UserOut, |s, p, id, b| svc::update(s, p, id, b)
);
delete_op!(
    /// Deletes a user.
    "/api/v1/users/{id}", "users", i32, |s, p, id| svc::delete(s, p, id)
);

/// Replaces the user's memberships inside the caller's operator subtrees (others are kept);
/// each may hold for a window (`valid_from`, `valid_until`), never longer than the caller's own.
#[utoipa::path(put, path = "/api/v1/users/{id}/memberships", tag = "users", params(("id" = i32, Path)), request_body = [MembershipIn], security(("bearer" = [])),
    responses((status = 200, body = UserOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn memberships(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    JsonList(b): JsonList<MembershipIn>,
) -> ApiResult<axum::Json<UserOut>> {
    Ok(axum::Json(svc::set_memberships(&s, &a.principal, id, b).await?))
}

/// The user's sessions.
#[utoipa::path(get, path = "/api/v1/users/{id}/sessions", tag = "users", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = [SessionOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn user_sessions(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
) -> ApiResult<axum::Json<Vec<SessionOut>>> {
    Ok(axum::Json(sessions::list_for(&s, &a.principal, id).await?))
}

/// Ends every session of the user at once.
#[utoipa::path(delete, path = "/api/v1/users/{id}/sessions", tag = "users", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn end_user_sessions(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    sessions::end_all_for(&s, &a.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the user's two-factor (lost device); it enrols again at its next login.
#[utoipa::path(delete, path = "/api/v1/users/{id}/2fa", tag = "users", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn reset_two_factor(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    two_factor::reset(&s, &a.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends the user a single-use link to set a new password (an invitation if it has none).
#[utoipa::path(post, path = "/api/v1/users/{id}/password-reset", tag = "users", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 201, body = InvitationOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn password_reset(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
) -> ApiResult<(StatusCode, axum::Json<InvitationOut>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(invitations::reset_password(&s, &a.principal, id).await?),
    ))
}
