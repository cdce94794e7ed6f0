//! `/api/v1/campaigns`: one remote command for many chargers, staged (see
//! [`crate::commands::campaign`]).

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::commands::campaign::{self as svc, CampaignOut, NewCampaignIn, Steer, StepsQuery};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(cancel))
}

list_op!(
    /// Campaigns of the caller's subtrees whose command it may run, newest first.
    "/api/v1/campaigns", "campaigns", CampaignOut, |s, p, q| svc::list(s, p, q)
);

/// Starts a campaign over the chargers its target names that the caller may run the command
/// on (422 if none); each charger is sent the ordinary command, `concurrency` at a time.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = NewCampaignIn, security(("bearer" = [])),
    responses((status = 201, body = CampaignOut),
        (status = 404, description = "the target names an organisation or site outside the caller's subtrees", body = ErrorBody)))]
async fn create(
    State(s): State<AppState>,
    a: Auth,
    Json(b): Json<NewCampaignIn>,
) -> ApiResult<(StatusCode, axum::Json<CampaignOut>)> {
    Ok((StatusCode::CREATED, axum::Json(svc::create(&s, &a.principal, b).await?)))
}

/// One campaign: counts per state and one page of its chargers with their answers.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = i32, Path), StepsQuery),
    security(("bearer" = [])), responses((status = 200, body = CampaignOut)))]
async fn get(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<i32>,
    Query(q): Query<StepsQuery>,
) -> ApiResult<axum::Json<CampaignOut>> {
    Ok(axum::Json(svc::show(&s, &a.principal, id, q.page()?).await?))
}

/// A POST that steers a campaign: 200 with it, 409 once it has ended.
macro_rules! steer_op {
    ($(#[doc = $d:literal])+ $name:ident, $path:tt, $how:expr) => {
        $(#[doc = $d])+
        #[utoipa::path(post, path = $path, tag = "campaigns", params(("id" = i32, Path)), security(("bearer" = [])),
            responses((status = 200, body = CampaignOut), (status = 409, description = "the campaign has ended", body = ErrorBody)))]
        async fn $name(State(s): State<AppState>, a: Auth, Path(id): Path<i32>) -> ApiResult<axum::Json<CampaignOut>> {
            Ok(axum::Json(svc::steer(&s, &a.principal, id, $how).await?))
        }
    };
}

steer_op!(
    /// Sends nothing new until resumed; commands in flight finish.
    pause, "/api/v1/campaigns/{id}/pause", Steer::Pause
);
steer_op!(
    /// Goes on; the failure ratio counts afresh from here.
    resume, "/api/v1/campaigns/{id}/resume", Steer::Resume
);
steer_op!(
    /// Stops for good: chargers not yet sent to are `cancelled`.
    cancel, "/api/v1/campaigns/{id}/cancel", Steer::Cancel
);
