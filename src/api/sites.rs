//! `/api/v1/sites`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::services::ListQuery;
use crate::services::sites::{self as svc, NewSite, SiteOut, SitePatch};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

/// Sites the caller may see (fleet managers: home sites).
#[utoipa::path(get, path = "/api/v1/sites", tag = "sites", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [SiteOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> ApiResult<axum::Json<Vec<SiteOut>>> {
    Ok(axum::Json(svc::list(&s, &a.principal, &q).await?))
}

/// Creates a site.
#[utoipa::path(post, path = "/api/v1/sites", tag = "sites", request_body = NewSite, security(("bearer" = [])),
    responses((status = 201, body = SiteOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewSite>,
) -> ApiResult<(StatusCode, axum::Json<SiteOut>)> {
    Ok((StatusCode::CREATED, axum::Json(svc::create(&s, &a.principal, b).await?)))
}

/// One site.
#[utoipa::path(get, path = "/api/v1/sites/{id}", tag = "sites", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = SiteOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<axum::Json<SiteOut>> {
    Ok(axum::Json(svc::get(&s, &a.principal, id).await?))
}

/// Changes a site.
#[utoipa::path(patch, path = "/api/v1/sites/{id}", tag = "sites", params(("id" = i32, Path)), request_body = SitePatch, security(("bearer" = [])),
    responses((status = 200, body = SiteOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    Json(b): Json<SitePatch>,
) -> ApiResult<axum::Json<SiteOut>> {
    Ok(axum::Json(svc::update(&s, &a.principal, id, b).await?))
}

/// Deletes a site without chargers (409 otherwise).
#[utoipa::path(delete, path = "/api/v1/sites/{id}", tag = "sites", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    svc::delete(&s, &a.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
