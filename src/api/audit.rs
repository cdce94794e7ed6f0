//! `/api/v1/audit`

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Query};
use crate::services::audit_log::{self as svc, AuditOut, AuditQuery};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Audit rows the caller may read, newest first (maintenance: its own actions); `user_id`
/// narrows to what one user did.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), security(("bearer" = [])),
    responses((status = 200, body = [AuditOut]), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<AuditQuery>) -> ApiResult<axum::Json<Vec<AuditOut>>> {
    Ok(axum::Json(svc::list(&s, &a.principal, &q).await?))
}
