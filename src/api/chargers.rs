//! `/api/v1/chargers`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::services::ListQuery;
use crate::services::chargers::{self as svc, ChargerOut, ChargerPatch, EventOut, NewCharger};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(events))
}

/// Chargers the caller may see, with live state.
#[utoipa::path(get, path = "/api/v1/chargers", tag = "chargers", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [ChargerOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<ChargerOut>>> {
    Ok(axum::Json(svc::list(&s, &a.principal, &q).await?))
}

/// Registers a charger (or adopts one waiting unassigned); a generated password is returned once.
#[utoipa::path(post, path = "/api/v1/chargers", tag = "chargers", request_body = NewCharger, security(("bearer" = [])),
    responses((status = 201, body = ChargerOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewCharger>,
) -> ApiResult<(StatusCode, axum::Json<ChargerOut>)> {
    Ok((StatusCode::CREATED, axum::Json(svc::create(&s, &a.principal, b).await?)))
}

/// One charger with live state (online, connectors).
#[utoipa::path(get, path = "/api/v1/chargers/{id}", tag = "chargers", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = ChargerOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get(State(s): State<AppState>, a: Auth, Path(id): Path<String>) -> ApiResult<axum::Json<ChargerOut>> {
    Ok(axum::Json(svc::get(&s, &a.principal, &id).await?))
}

/// Moves a charger, changes its site or its password.
#[utoipa::path(patch, path = "/api/v1/chargers/{id}", tag = "chargers", params(("id" = String, Path)), request_body = ChargerPatch, security(("bearer" = [])),
    responses((status = 200, body = ChargerOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Json(b): Json<ChargerPatch>,
) -> ApiResult<axum::Json<ChargerOut>> {
    Ok(axum::Json(svc::update(&s, &a.principal, &id, b).await?))
}

/// Deletes a charger and closes its connection.
#[utoipa::path(delete, path = "/api/v1/chargers/{id}", tag = "chargers", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, a: Auth, Path(id): Path<String>) -> ApiResult<StatusCode> {
    svc::delete(&s, &a.principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The charger's firmware and diagnostics statuses, newest first, each linked to the audit row
/// of the command it follows.
#[utoipa::path(get, path = "/api/v1/chargers/{id}/events", tag = "chargers", params(("id" = String, Path), ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [EventOut]), (status = 404, body = ErrorBody)))]
async fn events(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<EventOut>>> {
    Ok(axum::Json(svc::events(&s, &a.principal, &id, &q).await?))
}
