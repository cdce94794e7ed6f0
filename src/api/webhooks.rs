//! `/api/v1/webhooks`: where a subtree's alerts are sent (see [`crate::alerts`]), and
//! `/api/v1/me/subscriptions`: the caller's own alerts by e-mail.

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use axum::http::StatusCode;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::services::ListQuery;
use crate::services::webhooks::{
    self as svc, DeliveryOut, NewSubscriptionIn, NewWebhookIn, SubscriptionOut, WebhookOut,
};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, delete))
        .routes(routes!(deliveries))
        .routes(routes!(my_subscriptions, subscribe))
        .routes(routes!(unsubscribe))
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

/// The caller's e-mail subscriptions.
#[utoipa::path(get, path = "/api/v1/me/subscriptions", tag = "webhooks", security(("bearer" = [])),
    responses((status = 200, body = [SubscriptionOut]), (status = 401, body = ErrorBody)))]
async fn my_subscriptions(State(s): State<AppState>, a: Auth) -> ApiResult<axum::Json<Vec<SubscriptionOut>>> {
    Ok(axum::Json(svc::subscriptions(&s, &a.principal).await?))
}

/// Mails the caller a subtree's chosen events, for the chargers the caller may read when each
/// is sent.
#[utoipa::path(post, path = "/api/v1/me/subscriptions", tag = "webhooks", request_body = NewSubscriptionIn,
    security(("bearer" = [])),
    responses((status = 201, body = SubscriptionOut), (status = 401, body = ErrorBody),
        (status = 404, description = "an organisation outside the caller's subtrees", body = ErrorBody),
        (status = 409, description = "e-mail is not configured on this server", body = ErrorBody),
        (status = 422, description = "no e-mail address on the account, or a bad field", body = ErrorBody)))]
async fn subscribe(
    State(s): State<AppState>,
    a: Auth,
    Json(body): Json<NewSubscriptionIn>,
) -> ApiResult<(StatusCode, axum::Json<SubscriptionOut>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(svc::subscribe(&s, &a.principal, body).await?),
    ))
}

/// Ends one of the caller's subscriptions.
#[utoipa::path(delete, path = "/api/v1/me/subscriptions/{id}", tag = "webhooks", params(("id" = i32, Path)),
    security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn unsubscribe(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<StatusCode> {
    svc::unsubscribe(&s, &a.principal, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
