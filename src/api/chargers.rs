//! `/api/v1/chargers`

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Path, Query};
use crate::ocpp::ChargerId;
use crate::services::ListQuery;
use crate::services::chargers::{self as svc, ChargerOut, ChargerPatch, EventOut, NewCharger};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(events))
}

list_op!(
    /// Chargers the caller may see, with live state.
    "/api/v1/chargers", "chargers", ChargerOut, |s, p, q| svc::list(s, p, q)
);
create_op!(
    /// Registers a charger (or adopts one waiting unassigned); a generated password is returned once.
    "/api/v1/chargers", "chargers", NewCharger => ChargerOut, |s, p, b| svc::create(s, p, b)
);
get_op!(
    /// One charger with live state (online, connectors).
    "/api/v1/chargers/{id}", "chargers", ChargerId => ChargerOut, |s, p, id| svc::get(s, p, &id)
);
update_op!(
    /// Moves a charger, changes its site or its password.
    "/api/v1/chargers/{id}", "chargers", ChargerId, ChargerPatch => ChargerOut, |s, p, id, b| svc::update(s, p, &id, b)
);
delete_op!(
    /// Deletes a charger and closes its connection.
    "/api/v1/chargers/{id}", "chargers", ChargerId, |s, p, id| svc::delete(s, p, &id)
);

/// The charger's firmware and diagnostics statuses, newest first, each linked to the audit row
/// of the command it follows.
#[utoipa::path(get, path = "/api/v1/chargers/{id}/events", tag = "chargers", params(("id" = ChargerId, Path), ListQuery), security(("bearer" = [])),
    responses((status = 200, body = [EventOut]), (status = 404, body = ErrorBody)))]
async fn events(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Query(q): Query<ListQuery>,
) -> ApiResult<axum::Json<Vec<EventOut>>> {
    Ok(axum::Json(svc::events(&s, &a.principal, &id, &q).await?))
}
