//! `/api/v1/webhooks`: where a subtree's alerts are sent (see [`crate::alerts`]).

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiResult;
use crate::http::extract::{Auth, Path, Query};
use crate::services::ListQuery;
use crate::services::webhooks::{self as svc, DeliveryOut, NewWebhookIn, WebhookOut};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, delete))
        .routes(routes!(deliveries))
}

list_op!(
    /// Webhooks of the caller's subtrees.
    "/api/v1/webhooks", "webhooks", WebhookOut, |s, p, q| svc::list(s, p, q)
);
create_op!(
    /// Sends the subtree's chosen events to a URL, signed; the answer shows the secret once.
    "/api/v1/webhooks", "webhooks", NewWebhookIn => WebhookOut, |s, p, b| svc::create(s, p, b)
);
get_op!(
    /// One webhook.
    "/api/v1/webhooks/{id}", "webhooks", i32 => WebhookOut, |s, p, id| svc::get(s, p, id)
);
delete_op!(
    /// Deletes a webhook with its delivery log.
    "/api/v1/webhooks/{id}", "webhooks", i32, |s, p, id| svc::delete(s, p, id)
);

/// A webhook's deliveries, newest first: each event's body, attempts and the receiver's last
/// answer.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = i32, Path), ListQuery),
    security(("bearer" = [])), responses((status = 200, body = [DeliveryOut])))]
async fn deliveries(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<DeliveryOut>>> {
    Ok(axum::Json(svc::deliveries(&s, &a.principal, id, &q).await?))
}
