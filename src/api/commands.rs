//! Remote commands: `/api/v1/chargers/{id}/reset`, `/unlock`, `/firmware`, ... Each handler
//! turns its body into a [`Command`] and hands it to [`commands::execute`]; the answer is the
//! charger's own (200), or 409 offline/busy, 502 CALLERROR, 504 no answer.

use axum::extract::State;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::commands::{
    self, AvailabilityBody, CertificateQuery, CertificateRequest, ClearCache, Command, CommandReply, ConfigurationBody,
    DeleteCertificateBody, DiagnosticsBody, FirmwareBody, GetConfigurationKeys, GetVariablesBody,
    InstallCertificateBody, LogBody, PasswordBody, RemoteStartBody, RemoteStopBody, ReportBody, ResetBody,
    SetVariablesBody, TriggerBody, UnlockBody, VariableAddress, VariableSetting,
};
use crate::http::error::{ApiResult, ErrorBody};
use crate::http::extract::{Auth, Json, JsonList, Path, Query};
use crate::ocpp::ChargerId;
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
        .routes(routes!(report))
        .routes(routes!(set_variables))
        .routes(routes!(get_variables))
        .routes(routes!(password))
        .routes(routes!(certificate))
        .routes(routes!(certificates, install_certificate))
        .routes(routes!(delete_certificate))
        .routes(routes!(logs))
}

/// What every command can answer beyond the errors every endpoint has.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // only its OpenAPI description is used
enum CommandResponses {
    /// The charger's own answer.
    #[response(status = 200)]
    Answered(CommandReply),
    /// The charger is offline, not booted yet, or busy with a command of this kind.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The charger answered CALLERROR, an invalid payload, or disconnected first.
    #[response(status = 502)]
    ChargerError(ErrorBody),
    /// No answer within `ocpp.call_timeout_s`.
    #[response(status = 504)]
    Timeout(ErrorBody),
}

async fn run(state: &AppState, auth: &Auth, id: &str, cmd: Command) -> ApiResult<axum::Json<CommandReply>> {
    Ok(axum::Json(commands::execute(state, &auth.principal, id, cmd).await?))
}

/// A `POST /api/v1/chargers/{id}/...` command whose JSON body is the command's own.
macro_rules! post_command {
    ($(#[doc = $doc:literal])* $name:ident, $path:tt, $body:ty, $variant:path) => {
        $(#[doc = $doc])*
        #[utoipa::path(post, path = $path, tag = "commands", params(("id" = ChargerId, Path)),
            request_body = $body, security(("bearer" = [])), responses(CommandResponses))]
        async fn $name(
            State(s): State<AppState>,
            a: Auth,
            Path(id): Path<ChargerId>,
            Json(b): Json<$body>,
        ) -> ApiResult<axum::Json<CommandReply>> {
            run(&s, &a, &id, $variant(b)).await
        }
    };
}

post_command!(
    /// Resets the charger (`soft`: 2.0.1 OnIdle; `hard`: Immediate).
    reset, "/api/v1/chargers/{id}/reset", ResetBody, Command::Reset
);
post_command!(
    /// Unlocks a connector (2.0.1 chargers need `evse_id`).
    unlock, "/api/v1/chargers/{id}/unlock", UnlockBody, Command::Unlock
);
/// Starts a firmware update; progress arrives as firmware statuses (`GET .../events`). With
/// `signing_certificate` and `signature` it is signed firmware (2.0.1 UpdateFirmware with
/// both, 1.6 SignedUpdateFirmware).
#[utoipa::path(post, path = "/api/v1/chargers/{id}/firmware", tag = "commands", params(("id" = ChargerId, Path)),
    request_body = FirmwareBody, security(("bearer" = [])), responses(CommandResponses))]
async fn firmware(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Json(b): Json<FirmwareBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, b.into_command()).await
}
post_command!(
    /// Makes the charger, an EVSE or a connector operative or inoperative.
    availability, "/api/v1/chargers/{id}/availability", AvailabilityBody, Command::Availability
);
post_command!(
    /// Asks the charger to send one of its messages now.
    trigger, "/api/v1/chargers/{id}/trigger", TriggerBody, Command::Trigger
);
post_command!(
    /// Asks for a diagnostics upload (1.6 GetDiagnostics, 2.0.1 GetLog).
    diagnostics, "/api/v1/chargers/{id}/diagnostics", DiagnosticsBody, Command::Diagnostics
);
post_command!(
    /// Changes the charger's HTTP Basic password (2.0.1 `SecurityCtrlr.BasicAuthPassword`, 1.6
    /// `AuthorizationKey`), generating one when none is given. Until the charger connects with
    /// the new password both work; a refusal keeps the old one only. Charger security.
    password, "/api/v1/chargers/{id}/password", PasswordBody, Command::Password
);
post_command!(
    /// Asks the charger for a CSR (2.0.1 TriggerMessage `SignChargingStationCertificate`, 1.6
    /// ExtendedTriggerMessage `SignChargePointCertificate`); voltgate's CA signs it and sends the
    /// certificate back (CertificateSigned). 409 without `[ca]`. Charger security.
    certificate, "/api/v1/chargers/{id}/certificate", CertificateRequest, Command::RequestCertificate
);
post_command!(
    /// Asks for a log upload (GetLog, both versions; 1.6 through the security extension):
    /// `diagnostics` needs remote maintenance, `security` charger security. Progress arrives as
    /// LogStatusNotification (`GET .../events`, kind `diagnostics`).
    logs, "/api/v1/chargers/{id}/logs", LogBody, Command::GetLog
);
post_command!(
    /// Starts a transaction remotely (1.6 RemoteStartTransaction, 2.0.1 RequestStartTransaction).
    remote_start, "/api/v1/chargers/{id}/remote-start", RemoteStartBody, Command::RemoteStart
);
post_command!(
    /// Stops a transaction remotely (1.6 RemoteStopTransaction, 2.0.1 RequestStopTransaction).
    remote_stop, "/api/v1/chargers/{id}/remote-stop", RemoteStopBody, Command::RemoteStop
);

/// Asks for the charger's device model (2.0.1 GetBaseReport, or GetReport when components or
/// variables are named; the NotifyReport parts that follow are stored) or configuration
/// inventory (1.6 GetConfiguration, stored from the answer); read it at `GET .../variables`.
#[utoipa::path(post, path = "/api/v1/chargers/{id}/report", tag = "commands", params(("id" = ChargerId, Path)),
    request_body = ReportBody, security(("bearer" = [])), responses(CommandResponses))]
async fn report(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Json(b): Json<ReportBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    let cmd = if b.is_selective() {
        Command::Report(commands::SelectiveReport(b))
    } else {
        Command::BaseReport(commands::BaseReport(b))
    };
    run(&s, &a, &id, cmd).await
}

/// Sets variables by their full address (2.0.1 SetVariables; 1.6 ChangeConfiguration of one
/// key); the answer has each one's result in `configuration`, and the accepted values are
/// stored in the device model.
#[utoipa::path(post, path = "/api/v1/chargers/{id}/variables", tag = "commands", params(("id" = ChargerId, Path)),
    request_body = Vec<VariableSetting>, security(("bearer" = [])), responses(CommandResponses))]
async fn set_variables(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    JsonList(b): JsonList<VariableSetting>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::SetVariables(SetVariablesBody { items: b })).await
}

/// Reads variables by their full address (2.0.1 GetVariables, 1.6 GetConfiguration); the
/// values read are stored in the device model.
#[utoipa::path(post, path = "/api/v1/chargers/{id}/variables/get", tag = "commands", params(("id" = ChargerId, Path)),
    request_body = Vec<VariableAddress>, security(("bearer" = [])), responses(CommandResponses))]
async fn get_variables(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    JsonList(b): JsonList<VariableAddress>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::GetVariables(GetVariablesBody { items: b })).await
}

/// Lists the certificates the charger has installed (GetInstalledCertificateIds); each `id`
/// is what `DELETE .../certificates/{certificate_id}` takes. Charger security.
#[utoipa::path(get, path = "/api/v1/chargers/{id}/certificates", tag = "commands",
    params(("id" = ChargerId, Path), CertificateQuery), security(("bearer" = [])), responses(CommandResponses))]
async fn certificates(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Query(q): Query<CertificateQuery>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::GetCertificates(q)).await
}

/// Installs a root certificate on the charger (InstallCertificate): `csms_root` (e.g.
/// voltgate's CA, before profile 3), `manufacturer_root` (signed firmware), 15118 roots (2.0.1).
/// Charger security.
#[utoipa::path(post, path = "/api/v1/chargers/{id}/certificates", tag = "commands",
    params(("id" = ChargerId, Path)), request_body = InstallCertificateBody, security(("bearer" = [])),
    responses(CommandResponses))]
async fn install_certificate(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Json(b): Json<InstallCertificateBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::InstallCertificate(b)).await
}

/// Removes a certificate the charger listed (DeleteCertificate). Charger security.
#[utoipa::path(delete, path = "/api/v1/chargers/{id}/certificates/{certificate_id}", tag = "commands",
    params(("id" = ChargerId, Path), ("certificate_id" = String, Path,
        description = "ALGORITHM.issuerNameHash.issuerKeyHash.serialNumber, as listed")),
    security(("bearer" = [])), responses(CommandResponses))]
async fn delete_certificate(
    State(s): State<AppState>,
    a: Auth,
    Path((id, certificate_id)): Path<(ChargerId, String)>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(
        &s,
        &a,
        &id,
        Command::DeleteCertificate(DeleteCertificateBody { certificate_id }),
    )
    .await
}

/// `?key=a,b` for `GET /configuration`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct KeysQuery {
    /// Comma-separated keys (1.6) or `Component.Variable` names (2.0.1); none: all (1.6 only).
    key: Option<String>,
}

/// Reads configuration (1.6 GetConfiguration, 2.0.1 GetVariables).
#[utoipa::path(get, path = "/api/v1/chargers/{id}/configuration", tag = "commands", params(("id" = ChargerId, Path), KeysQuery), security(("bearer" = [])),
    responses(CommandResponses))]
async fn get_configuration(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Query(q): Query<KeysQuery>,
) -> ApiResult<axum::Json<CommandReply>> {
    let keys = q
        .key
        .iter()
        .flat_map(|k| k.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect();
    run(&s, &a, &id, Command::GetConfiguration(GetConfigurationKeys { keys })).await
}

/// Changes one setting (1.6 ChangeConfiguration, 2.0.1 SetVariables).
#[utoipa::path(put, path = "/api/v1/chargers/{id}/configuration", tag = "commands", params(("id" = ChargerId, Path)), request_body = ConfigurationBody, security(("bearer" = [])),
    responses(CommandResponses))]
async fn set_configuration(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
    Json(b): Json<ConfigurationBody>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::SetConfiguration(b)).await
}

/// Clears the charger's authorisation cache.
#[utoipa::path(post, path = "/api/v1/chargers/{id}/clear-cache", tag = "commands", params(("id" = ChargerId, Path)), security(("bearer" = [])),
    responses(CommandResponses))]
async fn clear_cache(
    State(s): State<AppState>,
    a: Auth,
    Path(id): Path<ChargerId>,
) -> ApiResult<axum::Json<CommandReply>> {
    run(&s, &a, &id, Command::ClearCache(ClearCache)).await
}
