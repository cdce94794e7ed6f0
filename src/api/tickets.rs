//! `/api/v1/tickets`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::services::ListQuery;
use crate::services::tickets::{self as svc, CommentOut, NewComment, NewTicket, TicketOut, TicketPatch};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update))
        .routes(routes!(comment))
}

/// Maintenance tickets the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [TicketOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<ListQuery>) -> ApiResult<axum::Json<Vec<TicketOut>>> {
    Ok(axum::Json(svc::list(&s, &a.principal, &q).await?))
}

/// Opens a ticket.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = NewTicket, security(("bearer" = [])),
    responses((status = 201, body = TicketOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewTicket>,
) -> ApiResult<(StatusCode, axum::Json<TicketOut>)> {
    Ok((StatusCode::CREATED, axum::Json(svc::create(&s, &a.principal, b).await?)))
}

/// One ticket with its comments.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = i32, Path)), security(("bearer" = [])),
    responses((status = 200, body = TicketOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<axum::Json<TicketOut>> {
    Ok(axum::Json(svc::get(&s, &a.principal, id).await?))
}

/// Changes a ticket's title, body or status.
#[utoipa::path(patch, path = "/api/v1/tickets/{id}", tag = "tickets", params(("id" = i32, Path)), request_body = TicketPatch, security(("bearer" = [])),
    responses((status = 200, body = TicketOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    Json(b): Json<TicketPatch>,
) -> ApiResult<axum::Json<TicketOut>> {
    Ok(axum::Json(svc::update(&s, &a.principal, id, b).await?))
}

/// Comments on a ticket.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", tag = "tickets", params(("id" = i32, Path)), request_body = NewComment, security(("bearer" = [])),
    responses((status = 201, body = CommentOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn comment(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    Json(b): Json<NewComment>,
) -> ApiResult<(StatusCode, axum::Json<CommentOut>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc::comment(&s, &a.principal, id, b).await?),
    ))
}
