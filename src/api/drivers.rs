//! `/api/v1/drivers`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::services::ListQuery;
use crate::services::drivers::{self as svc, DriverIn, DriverOut, NewDriver};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

/// Drivers the caller may read.
#[utoipa::path(get, path = "/api/v1/drivers", tag = "drivers", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [DriverOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> ApiResult<axum::Json<Vec<DriverOut>>> {
    Ok(axum::Json(svc::list_drivers(&s, &a.principal, &q).await?))
}

/// Adds a driver.
#[utoipa::path(post, path = "/api/v1/drivers", tag = "drivers", request_body = NewDriver, security(("bearer" = [])),
    responses((status = 201, body = DriverOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewDriver>,
) -> ApiResult<(StatusCode, axum::Json<DriverOut>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc::save_driver(&s, &a.principal, None, b.into()).await?),
    ))
}

/// One driver.
#[utoipa::path(get, path = "/api/v1/drivers/{id}", tag = "drivers", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = DriverOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<axum::Json<DriverOut>> {
    Ok(axum::Json(svc::get_driver(&s, &a.principal, id).await?))
}

/// Changes a driver.
#[utoipa::path(patch, path = "/api/v1/drivers/{id}", tag = "drivers", params(("id" = i32, Path)), request_body = DriverIn, security(("bearer" = [])),
    responses((status = 200, body = DriverOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    Json(b): Json<DriverIn>,
) -> ApiResult<axum::Json<DriverOut>> {
    Ok(axum::Json(svc::save_driver(&s, &a.principal, Some(id), b).await?))
}

/// Deletes a driver (its tokens stay, unassigned).
#[utoipa::path(delete, path = "/api/v1/drivers/{id}", tag = "drivers", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    svc::delete_driver(&s, &a.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
