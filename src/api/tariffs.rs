//! `/api/v1/tariffs`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::services::ListQuery;
use crate::services::access_rules::{self as svc, NewTariff, TariffIn, TariffOut};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(update, delete))
}

/// Tariffs (billing).
#[utoipa::path(get, path = "/api/v1/tariffs", tag = "access", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [TariffOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> ApiResult<axum::Json<Vec<TariffOut>>> {
    Ok(axum::Json(svc::list_tariffs(&s, &a.principal, &q).await?))
}

/// Sets a tariff for an organisation's subtree.
#[utoipa::path(post, path = "/api/v1/tariffs", tag = "access", request_body = NewTariff, security(("bearer" = [])),
    responses((status = 201, body = TariffOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewTariff>,
) -> ApiResult<(StatusCode, axum::Json<TariffOut>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc::save_tariff(&s, &a.principal, None, b.into()).await?),
    ))
}

/// Changes a tariff.
#[utoipa::path(patch, path = "/api/v1/tariffs/{id}", tag = "access", params(("id" = i32, Path)), request_body = TariffIn, security(("bearer" = [])),
    responses((status = 200, body = TariffOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    Json(b): Json<TariffIn>,
) -> ApiResult<axum::Json<TariffOut>> {
    Ok(axum::Json(svc::save_tariff(&s, &a.principal, Some(id), b).await?))
}

/// Deletes a tariff.
#[utoipa::path(delete, path = "/api/v1/tariffs/{id}", tag = "access", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    svc::delete_tariff(&s, &a.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
