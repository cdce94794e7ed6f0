//! `/api/v1/id-tokens`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::services::ListQuery;
use crate::services::drivers::{self as svc, NewToken, TokenOut, TokenPatch};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
}

/// RFID cards and other id tokens the caller may read.
#[utoipa::path(get, path = "/api/v1/id-tokens", tag = "id-tokens", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [TokenOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> ApiResult<axum::Json<Vec<TokenOut>>> {
    Ok(axum::Json(svc::list_tokens(&s, &a.principal, &q).await?))
}

/// Issues a token (409 if its value exists in the organisation tree).
#[utoipa::path(post, path = "/api/v1/id-tokens", tag = "id-tokens", request_body = NewToken, security(("bearer" = [])),
    responses((status = 201, body = TokenOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewToken>,
) -> ApiResult<(StatusCode, axum::Json<TokenOut>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc::create_token(&s, &a.principal, b.into()).await?),
    ))
}

/// One token.
#[utoipa::path(get, path = "/api/v1/id-tokens/{id}", tag = "id-tokens", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = TokenOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<axum::Json<TokenOut>> {
    Ok(axum::Json(svc::get_token(&s, &a.principal, id).await?))
}

/// Blocks, unblocks, expires or reassigns a token.
#[utoipa::path(patch, path = "/api/v1/id-tokens/{id}", tag = "id-tokens", params(("id" = i32, Path)), request_body = TokenPatch, security(("bearer" = [])),
    responses((status = 200, body = TokenOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    Json(b): Json<TokenPatch>,
) -> ApiResult<axum::Json<TokenOut>> {
    Ok(axum::Json(svc::update_token(&s, &a.principal, id, b.into()).await?))
}

/// Deletes a token.
#[utoipa::path(delete, path = "/api/v1/id-tokens/{id}", tag = "id-tokens", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    svc::delete_token(&s, &a.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
