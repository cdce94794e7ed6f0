//! `/api/v1/tickets`

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path};
use crate::services::tickets::{self as svc, CommentOut, NewComment, NewTicket, TicketOut, TicketPatch};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update))
        .routes(routes!(comment))
}

list_op!(
    /// Maintenance tickets the caller may see, newest first.
    "/api/v1/tickets", "tickets", TicketOut, |s, p, q| svc::list(s, p, q)
);
create_op!(
    /// Opens a ticket.
    "/api/v1/tickets", "tickets", NewTicket => TicketOut, |s, p, b| svc::create(s, p, b)
);
get_op!(
    /// One ticket with its comments.
    "/api/v1/tickets/{id}", "tickets", i32 => TicketOut, |s, p, id| svc::get(s, p, id)
);
update_op!(
    /// Changes a ticket's title, body or status.
    "/api/v1/tickets/{id}", "tickets", i32, TicketPatch => TicketOut, |s, p, id, b| svc::update(s, p, id, b)
);

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
