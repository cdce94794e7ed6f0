//! Remote commands: `/api/v1/chargers/{id}/reset`, `/unlock`, `/firmware`, ... Each handler
//! turns its body into a [`Command`] and hands it to [`commands::execute`]; the answer is the
//! charger's own (200), or 409 offline/busy, 502 CALLERROR, 504 no answer.

use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::commands::{
    self, AvailabilityBody, Command, CommandReply, ConfigurationBody, DiagnosticsBody, FirmwareBody, RemoteStartBody,
    RemoteStopBody, ResetBody, TriggerBody, UnlockBody,
};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, Path, Query};
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(reset))
        .routes(routes!(unlock))
        .routes(routes!(firmware))
        .routes(routes!(availability))
        .routes(routes!(trigger))
        .routes(routes!(diagnostics))
        .routes(routes!(get_configuration, set_configuration))
        .routes(routes!(remote_start))
        .routes(routes!(remote_stop))
        .routes(routes!(clear_cache))
}

async fn run(state: &AppState, auth: &Auth, id: &str, cmd: Command) -> ApiResult<axum::Json<CommandReply>> {
    Ok(axum::Json(commands::execute(state, &auth.principal, id, cmd).await?))
}

/// Resets the charger (`soft`: 2.0.1 OnIdle; `hard`: Immediate).
#[utoipa::path(post, path = "/api/v1/chargers/{id}/reset", tag = "commands", params(("id" = String, Path)), request_body = ResetBody, security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn reset(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Json(b): Json<ResetBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::Reset(b)).await
}

/// Unlocks a connector (2.0.1 chargers need `evse_id`).
#[utoipa::path(post, path = "/api/v1/chargers/{id}/unlock", tag = "commands", params(("id" = String, Path)), request_body = UnlockBody, security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn unlock(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Json(b): Json<UnlockBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::Unlock(b)).await
}

/// Starts a firmware update; progress arrives as firmware statuses (`GET .../events`).
#[utoipa::path(post, path = "/api/v1/chargers/{id}/firmware", tag = "commands", params(("id" = String, Path)), request_body = FirmwareBody, security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn firmware(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Json(b): Json<FirmwareBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::UpdateFirmware(b)).await
}

/// Makes the charger, an EVSE or a connector operative or inoperative.
#[utoipa::path(post, path = "/api/v1/chargers/{id}/availability", tag = "commands", params(("id" = String, Path)), request_body = AvailabilityBody, security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn availability(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Json(b): Json<AvailabilityBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::Availability(b)).await
}

/// Asks the charger to send a message now (TriggerMessage).
#[utoipa::path(post, path = "/api/v1/chargers/{id}/trigger", tag = "commands", params(("id" = String, Path)), request_body = TriggerBody, security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn trigger(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Json(b): Json<TriggerBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::Trigger(b)).await
}

/// Asks for a diagnostics upload (1.6 GetDiagnostics, 2.0.1 GetLog).
#[utoipa::path(post, path = "/api/v1/chargers/{id}/diagnostics", tag = "commands", params(("id" = String, Path)), request_body = DiagnosticsBody, security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn diagnostics(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Json(b): Json<DiagnosticsBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::Diagnostics(b)).await
}

/// `?key=a,b` for `GET /configuration`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct KeysQuery {
    /// Comma-separated keys (1.6) or `Component.Variable` names (2.0.1); none: all (1.6 only).
    key: Option<String>,
}

/// Reads configuration (1.6 GetConfiguration, 2.0.1 GetVariables).
#[utoipa::path(get, path = "/api/v1/chargers/{id}/configuration", tag = "commands", params(("id" = String, Path), KeysQuery), security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn get_configuration(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Query(q): Query<KeysQuery>,
) -> ApiResult<axum::Json<CommandReply>> {
    let keys = q
        .key
        .map(|k| {
            k.split(',')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    run(&s, &a, &id, Command::GetConfiguration(keys)).await
}

/// Changes one setting (1.6 ChangeConfiguration, 2.0.1 SetVariables).
#[utoipa::path(put, path = "/api/v1/chargers/{id}/configuration", tag = "commands", params(("id" = String, Path)), request_body = ConfigurationBody, security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn set_configuration(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Json(b): Json<ConfigurationBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::SetConfiguration(b)).await
}

/// Starts a transaction remotely (1.6 RemoteStartTransaction, 2.0.1 RequestStartTransaction).
#[utoipa::path(post, path = "/api/v1/chargers/{id}/remote-start", tag = "commands", params(("id" = String, Path)), request_body = RemoteStartBody, security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn remote_start(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Json(b): Json<RemoteStartBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::RemoteStart(b)).await
}

/// Stops a transaction remotely (1.6 RemoteStopTransaction, 2.0.1 RequestStopTransaction).
#[utoipa::path(post, path = "/api/v1/chargers/{id}/remote-stop", tag = "commands", params(("id" = String, Path)), request_body = RemoteStopBody, security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn remote_stop(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
    Json(b): Json<RemoteStopBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::RemoteStop(b)).await
}

/// Clears the charger's authorisation cache.
#[utoipa::path(post, path = "/api/v1/chargers/{id}/clear-cache", tag = "commands", params(("id" = String, Path)), security(("bearer" = [])),
    responses((status = 200, body = CommandReply), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 502, body = ErrorBody), (status = 504, body = ErrorBody)))]
async fn clear_cache(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::ClearCache).await
}
