//! `/api/v1/dashboard`

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Query};
use crate::services::dashboard::{self as svc, Dashboard, DashboardQuery};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get))
}

/// The caller's dashboard: chargers, connectors, firmware updates, and, where its roles allow,
/// open tickets, recent remote actions and today's charging (revenue only with billing).
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "dashboard", params(DashboardQuery), security(("bearer" = [])),
    responses((status = 200, body = Dashboard), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get(State(s): State<AppState>, a: Auth, Query(q): Query<DashboardQuery>) -> ApiResult<axum::Json<Dashboard>> {
    Ok(axum::Json(svc::get(&s, &a.principal, &q).await?))
}
