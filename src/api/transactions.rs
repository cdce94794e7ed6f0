//! `/api/v1/transactions`: the charging log, as JSON or CSV.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Query};
use crate::services::transactions::{self as svc, TransactionOut, TransactionQuery};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The charging log, newest first; `?format=csv` for a spreadsheet. `cost` appears only for
/// roles that see billing.
#[utoipa::path(get, path = "/api/v1/transactions", tag = "transactions", params(TransactionQuery), security(("bearer" = [])),
    responses((status = 200, description = "The log, as JSON or (`?format=csv`) CSV", content((Vec<TransactionOut> = "application/json"), (String = "text/csv"))), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list(State(s): State<AppState>, a: Auth, Query(q): Query<TransactionQuery>) -> ApiResult<Response> {
    let rows = svc::list(&s, &a.principal, &q).await?;
    match q.format.unwrap_or_default() {
        svc::LogFormat::Json => Ok(axum::Json(rows).into_response()),
        svc::LogFormat::Csv => {
            Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], svc::to_csv(&rows)).into_response())
        }
    }
}
