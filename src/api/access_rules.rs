//! `/api/v1/access-rules`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::services::ListQuery;
use crate::services::access_rules::{self as svc, RuleIn, RuleOut};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(delete))
}

/// Access rules at the caller's sites (support: reduced view).
#[utoipa::path(get, path = "/api/v1/access-rules", tag = "access", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [RuleOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> ApiResult<axum::Json<Vec<RuleOut>>> {
    Ok(axum::Json(svc::list_rules(&s, &a.principal, &q).await?))
}

/// Admits a driver group at a private site.
#[utoipa::path(post, path = "/api/v1/access-rules", tag = "access", request_body = RuleIn, security(("bearer" = [])),
    responses((status = 201, body = RuleOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<RuleIn>,
) -> ApiResult<(StatusCode, axum::Json<RuleOut>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc::create_rule(&s, &a.principal, b).await?),
    ))
}

/// Removes a rule.
#[utoipa::path(delete, path = "/api/v1/access-rules/{id}", tag = "access", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    svc::delete_rule(&s, &a.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
