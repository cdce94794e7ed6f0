//! `/api/v1/organisations`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::services::ListQuery;
use crate::services::organisations::{self as svc, NewOrganisation, OrganisationOut, OrganisationPatch};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

/// Organisations the caller may read (its subtrees).
#[utoipa::path(get, path = "/api/v1/organisations", tag = "organisations", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [OrganisationOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<OrganisationOut>>> {
    Ok(axum::Json(svc::list(&s, &a.principal, &q).await?))
}

/// Creates an organisation below `parent_id` (operators of the parent).
#[utoipa::path(post, path = "/api/v1/organisations", tag = "organisations", request_body = NewOrganisation, security(("bearer" = [])),
    responses((status = 201, body = OrganisationOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewOrganisation>,
) -> ApiResult<(StatusCode, axum::Json<OrganisationOut>)> {
    Ok((StatusCode::CREATED, axum::Json(svc::create(&s, &a.principal, b).await?)))
}

/// One organisation.
#[utoipa::path(get, path = "/api/v1/organisations/{id}", tag = "organisations", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrganisationOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<axum::Json<OrganisationOut>> {
    Ok(axum::Json(svc::get(&s, &a.principal, id).await?))
}

/// Renames or moves an organisation (moving needs operator rights above it).
#[utoipa::path(patch, path = "/api/v1/organisations/{id}", tag = "organisations", params(("id" = i32, Path)), request_body = OrganisationPatch, security(("bearer" = [])),
    responses((status = 200, body = OrganisationOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    Json(b): Json<OrganisationPatch>,
) -> ApiResult<axum::Json<OrganisationOut>> {
    Ok(axum::Json(svc::update(&s, &a.principal, id, b).await?))
}

/// Deletes an empty organisation (409 if it holds anything).
#[utoipa::path(delete, path = "/api/v1/organisations/{id}", tag = "organisations", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    svc::delete(&s, &a.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
