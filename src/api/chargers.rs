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
use crate::services::local_lists::{self, LocalListOut};
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
        .routes(routes!(local_list, sync_local_list))
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

/// The charger's local authorisation list: version, entries, last sync, what is still to be
/// sent and the last error (drivers: read).
#[utoipa::path(get, path = "/api/v1/chargers/{id}/local-list", tag = "chargers", params(("id" = ChargerId, Path)), security(("bearer" = [])),
    responses((status = 200, body = LocalListOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn local_list(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
) -> ApiResult<axum::Json<LocalListOut>> {
    Ok(axum::Json(local_lists::get(&s, &a.principal, &id).await?))
}

/// Sends the whole local list again now (GetLocalListVersion, then a Full SendLocalList in as
/// many parts as the charger's limits need); remote maintenance, audited. A charger on another
/// node is synced by that node within seconds (the answer then shows it pending).
#[utoipa::path(post, path = "/api/v1/chargers/{id}/local-list", tag = "commands", params(("id" = ChargerId, Path)), security(("bearer" = [])),
    responses((status = 200, body = LocalListOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "offline, or a sync is already running", body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn sync_local_list(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
) -> ApiResult<axum::Json<LocalListOut>> {
    Ok(axum::Json(
        crate::commands::local_list::force(&s, &a.principal, &id).await?,
    ))
}
