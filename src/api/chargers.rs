//! `/api/v1/chargers`

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Path, Query};
use crate::ocpp::ChargerId;
use crate::services::charger_events::{self as timeline, EventOut, EventQuery};
use crate::services::chargers::{self as svc, ChargerOut, ChargerPatch, ChargerQuery, NewCharger};
use crate::services::device_model::{self, VariableOut, VariableQuery};
use crate::services::messages::{self, MessageOut, MessageQuery};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(events))
        .routes(routes!(security_events))
        .routes(routes!(messages))
        .routes(routes!(variables))
}

/// Chargers the caller may see, with live state; `faulted` keeps those with (or without) an
/// open fault.
#[utoipa::path(get, path = "/api/v1/chargers", tag = "chargers", params(ChargerQuery), security(("bearer" = [])),
    responses((status = 200, body = [ChargerOut]),
        (status = 404, description = "`organisation_id` names an organisation outside the caller's subtrees",
            body = ErrorBody)))]
async fn list(
    State(s): State<AppState>,
    a: Auth,
    Query(q): Query<ChargerQuery>,
) -> ApiResult<axum::Json<Vec<ChargerOut>>> {
    Ok(axum::Json(svc::list(&s, &a.principal, &q).await?))
}

create_op!(
    /// Registers a charger (or adopts one waiting unassigned); a generated password is returned once.
    "/api/v1/chargers", "chargers", NewCharger => ChargerOut, |s, p, b| svc::create(s, p, b)
);
get_op!(
    /// One charger with live state (online, connectors).
    "/api/v1/chargers/{id}", "chargers", ChargerId => ChargerOut, |s, p, id| svc::get(s, p, &id)
);
update_op!(
    /// Moves a charger, changes its site, password or security profile (raised via the charger).
    "/api/v1/chargers/{id}", "chargers", ChargerId, ChargerPatch => ChargerOut,
    |s, p, id, b| crate::commands::security_profile::update_charger(s, p, &id, b)
);
delete_op!(
    /// Deletes a charger and closes its connection.
    "/api/v1/chargers/{id}", "chargers", ChargerId, |s, p, id| svc::delete(s, p, &id)
);

/// The charger's timeline, newest first: statuses, faults, events, security events (for those
/// who may read them), data transfers and requests, each linked to the command it follows.
#[utoipa::path(get, path = "/api/v1/chargers/{id}/events", tag = "chargers", params(("id" = ChargerId, Path), EventQuery), security(("bearer" = [])),
    responses((status = 200, body = [EventOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn events(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Query(q): Query<EventQuery>,
) -> ApiResult<axum::Json<Vec<EventOut>>> {
    Ok(axum::Json(timeline::events(&s, &a.principal, &id, &q).await?))
}

/// The charger's security events, newest first (operators, support, facility managers).
#[utoipa::path(get, path = "/api/v1/chargers/{id}/security-events", tag = "chargers", params(("id" = ChargerId, Path), EventQuery), security(("bearer" = [])),
    responses((status = 200, body = [EventOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn security_events(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Query(q): Query<EventQuery>,
) -> ApiResult<axum::Json<Vec<EventOut>>> {
    Ok(axum::Json(timeline::security_events(&s, &a.principal, &id, &q).await?))
}

/// The charger's OCPP conversation, newest first: each CALL beside its answer, secrets
/// replaced (operators, support, maintenance).
#[utoipa::path(get, path = "/api/v1/chargers/{id}/messages", tag = "chargers", params(("id" = ChargerId, Path), MessageQuery), security(("bearer" = [])),
    responses((status = 200, body = [MessageOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn messages(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Query(q): Query<MessageQuery>,
) -> ApiResult<axum::Json<Vec<MessageOut>>> {
    Ok(axum::Json(messages::list(&s, &a.principal, &id, &q).await?))
}

/// The charger's device model (2.0.1) or configuration inventory (1.6) as it last reported it
/// (`POST .../report` asks for it); values of write-only and secret variables are `null`.
#[utoipa::path(get, path = "/api/v1/chargers/{id}/variables", tag = "chargers", params(("id" = ChargerId, Path), VariableQuery), security(("bearer" = [])),
    responses((status = 200, body = [VariableOut]), (status = 404, body = ErrorBody)))]
async fn variables(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Query(q): Query<VariableQuery>,
) -> ApiResult<axum::Json<Vec<VariableOut>>> {
    Ok(axum::Json(device_model::variables(&s, &a.principal, &id, &q).await?))
}
