//! `/api/v1/driver-groups`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::services::ListQuery;
use crate::services::drivers::{self as svc, GroupIn, GroupOut, NewGroup};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

/// Driver groups the caller may read.
#[utoipa::path(get, path = "/api/v1/driver-groups", tag = "drivers", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [GroupOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> ApiResult<axum::Json<Vec<GroupOut>>> {
    Ok(axum::Json(svc::list_groups(&s, &a.principal, &q).await?))
}

/// Adds a driver group.
#[utoipa::path(post, path = "/api/v1/driver-groups", tag = "drivers", request_body = NewGroup, security(("bearer" = [])),
    responses((status = 201, body = GroupOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewGroup>,
) -> ApiResult<(StatusCode, axum::Json<GroupOut>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc::save_group(&s, &a.principal, None, b.into()).await?),
    ))
}

/// One group.
#[utoipa::path(get, path = "/api/v1/driver-groups/{id}", tag = "drivers", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = GroupOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<axum::Json<GroupOut>> {
    Ok(axum::Json(svc::get_group(&s, &a.principal, id).await?))
}

/// Renames a group.
#[utoipa::path(patch, path = "/api/v1/driver-groups/{id}", tag = "drivers", params(("id" = i32, Path)), request_body = GroupIn, security(("bearer" = [])),
    responses((status = 200, body = GroupOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    Json(b): Json<GroupIn>,
) -> ApiResult<axum::Json<GroupOut>> {
    Ok(axum::Json(svc::save_group(&s, &a.principal, Some(id), b).await?))
}

/// Deletes a group (its tokens stay, ungrouped; its access rules go).
#[utoipa::path(delete, path = "/api/v1/driver-groups/{id}", tag = "drivers", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    svc::delete_group(&s, &a.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
