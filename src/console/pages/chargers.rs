//! Chargers with their live state, a charger's page, and the remote maintenance buttons
//! (reset, unlock, firmware), which go through `commands` like the API's.

use axum::extract::{Query, State};
use maud::{Markup, html};

use crate::access::Permission;
use crate::commands::{
    self, AvailabilityBody, AvailabilityKind, Command, FirmwareBody, ResetBody, SetVariablesBody, TriggerBody,
    UnlockBody, VariableSetting,
};
use crate::console::layout::{badge, charger_href as href, csrf_input, empty, or_dash, page, when};
use crate::console::session::{Submitted, Viewer};
use crate::console::{PageResult, org_choices};
use crate::http::error::ApiError;
use crate::http::extract::Path;
use crate::ocpp::ChargerId;
use crate::services::charger_events::{self, EventOut, EventQuery};
use crate::services::chargers;
use crate::services::device_model::{self, VariableOut, VariableQuery};
use crate::services::local_lists::{self, LocalListOut};
use crate::state::AppState;

use super::Paging;

/// Messages both OCPP versions can be asked to send (TriggerMessage).
const TRIGGERS: [&str; 5] = [
    "StatusNotification",
    "Heartbeat",
    "BootNotification",
    "MeterValues",
    "FirmwareStatusNotification",
];

/// How many timeline rows a charger's page shows.
const TIMELINE: u64 = 20;

/// `EVSE 1 / connector 2`, `charger` for EVSE 0, nothing when the message named no place.
fn place(evse: Option<i32>, connector: Option<i32>) -> Markup {
    html! {
        @match (evse, connector) {
            (Some(0), _) => "charger",
            (Some(e), Some(0) | None) => { "EVSE " (e) },
            (Some(e), Some(k)) => { "EVSE " (e) " / connector " (k) },
            (None, _) => "",
        }
    }
}

fn online(on: bool) -> Markup {
    badge(if on { "online" } else { "offline" })
}

/// `GET /chargers`
pub async fn list(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    let rows = chargers::list(&state, &viewer.principal, &paging.query().into()).await?;
    let orgs = org_choices(&state, &viewer.principal, Permission::ChargersRead).await?;
    let body = html! {
        (paging.filter("/chargers", &orgs))
        @if rows.is_empty() { (empty("chargers")) } @else {
            table {
                thead { tr { th { "Charger" } th { "State" } th { "Connectors" } th { "Faults" } th { "Model" } th { "Firmware" } th { "Last seen" } } }
                tbody #chargers data-live="chargers" {
                    @for c in &rows {
                        tr {
                            td { a href=(href(&c.id)) { (c.id) } }
                            td { (online(c.online)) }
                            td { @for k in &c.connectors { (badge(&k.status)) " " } }
                            td { @if c.faults.is_empty() { "—" } @else { @for f in &c.faults { (badge(&f.code)) " " } } }
                            td { (or_dash(c.vendor.as_deref())) " " (c.model.as_deref().unwrap_or_default()) }
                            td { (or_dash(c.firmware_version.as_deref())) }
                            td { (when(c.last_seen_at)) }
                        }
                    }
                }
            }
            (paging.links("/chargers", rows.len()))
        }
        (super::registration::sections(&state, &viewer).await?)
    };
    Ok(page(&state, &viewer, "/chargers", "Chargers", body))
}

/// Whether the principal may do `permission` on the organisation `org_id`.
async fn may(state: &AppState, viewer: &Viewer, permission: Permission, org_id: Option<i32>) -> bool {
    let Some(id) = org_id else { return false };
    match state.store.organisation(id).await {
        Ok(Some(org)) => viewer.principal.allows(permission, (&org).into()),
        _ => false,
    }
}

/// `?q=` of a charger's page: only the device-model rows whose component or variable holds it.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ShowQuery {
    pub q: Option<String>,
}

/// How many device-model rows a charger's page shows.
const MODEL_ROWS: u64 = 500;

/// `GET /chargers/{id}`
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ChargerId>,
    Query(show): Query<ShowQuery>,
) -> PageResult {
    let p = &viewer.principal;
    let c = chargers::get(&state, p, &id).await?;
    let search = show.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let model = device_model_rows(&state, &viewer, &id, search).await?;
    let events = charger_events::events(
        &state,
        p,
        &id,
        &EventQuery {
            limit: Some(TIMELINE),
            ..Default::default()
        },
    )
    .await?;
    let maintain = may(&state, &viewer, Permission::RemoteMaintenance, c.organisation_id).await;
    let inspect = may(&state, &viewer, Permission::MessagesRead, c.organisation_id).await;
    let secure = may(&state, &viewer, Permission::ChargerSecurity, c.organisation_id).await;
    let list = match may(&state, &viewer, Permission::DriversRead, c.organisation_id).await {
        true => Some(local_lists::get(&state, p, &id).await?),
        false => None,
    };
    let here = href(&c.id);
    let body = html! {
        @if inspect { p { a href={ (here) "/messages" } { "OCPP messages (inspector)" } } }
        (state_section(&viewer, &here, &c, maintain))
        @if maintain { (maintenance_forms(&viewer, &here)) }
        @if secure { (security_section(&viewer, &here, &c, state.ca.is_some())) }
        @if let Some(list) = &list { (local_list_section(&viewer, &here, list, maintain)) }
        (model_section(&viewer, &here, &model, search, maintain))
        (timeline_section(&events))
    };
    Ok(page(&state, &viewer, "/chargers", &format!("Charger {}", c.id), body))
}

/// The device model's rows whose component or variable contains `search` (any case).
async fn device_model_rows(
    state: &AppState,
    viewer: &Viewer,
    id: &ChargerId,
    search: Option<&str>,
) -> Result<Vec<VariableOut>, crate::services::Error> {
    let query = VariableQuery {
        limit: Some(MODEL_ROWS),
        ..Default::default()
    };
    let model = device_model::variables(state, &viewer.principal, id, &query).await?;
    let Some(q) = search.map(str::to_lowercase) else {
        return Ok(model);
    };
    Ok(model
        .into_iter()
        .filter(|v| v.component.to_lowercase().contains(&q) || v.variable.to_lowercase().contains(&q))
        .collect())
}

/// The live part of the page: facts, connectors (with unlock for maintenance) and faults.
fn state_section(viewer: &Viewer, here: &str, c: &chargers::ChargerOut, maintain: bool) -> Markup {
    html! {
        section #state data-live="chargers" data-charger=(c.id) {
            dl.facts {
                dt { "State" } dd { (online(c.online)) }
                dt { "OCPP" } dd { (or_dash(c.ocpp_version.as_deref())) }
                dt { "Vendor / model" } dd { (or_dash(c.vendor.as_deref())) " / " (or_dash(c.model.as_deref())) }
                dt { "Serial" } dd { (or_dash(c.serial.as_deref())) }
                dt { "Firmware" } dd { (or_dash(c.firmware_version.as_deref())) @if let Some(s) = &c.firmware_status { " " (badge(s)) } }
                dt { "Registration" } dd { (badge(c.registration_status)) }
                dt { "Last seen" } dd { (when(c.last_seen_at)) }
            }
            h2 { "Connectors" }
            @if c.connectors.is_empty() { (empty("connector statuses")) } @else {
                table {
                    thead { tr { th { "EVSE" } th { "Connector" } th { "Status" } th { "Error" } th { "Since" } @if maintain { th { "" } } } }
                    tbody { @for k in &c.connectors {
                        tr {
                            td { (k.evse_id) } td { (k.connector_id) } td { (badge(&k.status)) }
                            td { (or_dash(k.error_code.as_deref())) } td { (when(Some(k.updated_at))) }
                            @if maintain {
                                td { @if k.evse_id > 0 {
                                    form.inline method="post" action={ (here) "/unlock" } {
                                        (csrf_input(viewer))
                                        input type="hidden" name="evse_id" value=(k.evse_id);
                                        input type="hidden" name="connector_id" value=(k.connector_id);
                                        button type="submit" { "Unlock" }
                                    }
                                } }
                            }
                        }
                    } }
                }
            }
            h2 { "Faults" }
            @if c.faults.is_empty() { (empty("open faults")) } @else {
                table #faults {
                    thead { tr { th { "Where" } th { "Source" } th { "Code" } th { "Info" } th { "Since" } } }
                    tbody { @for f in &c.faults {
                        tr {
                            td { (place(Some(f.evse_id), Some(f.connector_id))) } td { (f.source) }
                            td { (badge(&f.code)) } td { (or_dash(f.info.as_deref())) } td { (when(Some(f.opened_at))) }
                        }
                    } }
                }
            }
        }
    }
}

/// The device model with its search, ReadWrite values editable for maintenance.
fn model_section(viewer: &Viewer, here: &str, model: &[VariableOut], search: Option<&str>, maintain: bool) -> Markup {
    html! {
        h2 { "Device model" }
        form.inline method="get" action=(here) {
            label for="model-search" { "Search" }
            input #model-search type="search" name="q" value=(search.unwrap_or_default()) placeholder="component or variable";
            button type="submit" { "Search" }
        }
        @if model.is_empty() { (empty("reported variables (ask the charger for a report)")) } @else {
            table #model {
                thead { tr { th { "Component" } th { "Where" } th { "Variable" } th { "Attribute" } th { "Value" } th { "Mutability" } th { "Reported" } } }
                tbody { @for v in model {
                    tr {
                        td { @if v.component.is_empty() { "(configuration key)" } @else { (v.component) }
                            @if let Some(i) = &v.component_instance { "[" (i) "]" } }
                        td { (place(v.evse_id, v.connector_id)) }
                        td { (v.variable) @if let Some(i) = &v.variable_instance { "[" (i) "]" } }
                        td { (v.attribute) }
                        td {
                            @if maintain && v.mutability.as_deref() == Some("ReadWrite") {
                                (set_variable_form(viewer, here, v))
                            } @else { (or_dash(v.value.as_deref())) }
                        }
                        td { (or_dash(v.mutability.as_deref())) }
                        td { (when(Some(v.reported_at))) }
                    }
                } }
            }
        }
    }
}

fn timeline_section(events: &[EventOut]) -> Markup {
    html! {
        h2 { "Timeline" }
        @if events.is_empty() { (empty("events")) } @else {
            table #timeline {
                thead { tr { th { "When" } th { "Kind" } th { "Where" } th { "What" } th { "Detail" } } }
                tbody { @for e in events {
                    tr {
                        td { (when(Some(e.at))) }
                        td { (e.kind) @if e.critical { " " (badge("critical")) } }
                        td {
                            (place(e.evse_id, e.connector_id))
                            @if let Some(c) = &e.component { " " (c) }
                            @if let Some(v) = &e.variable { " / " (v) }
                        }
                        td { (badge(&e.status)) }
                        td { @if let Some(d) = &e.detail { code { (d) } } @else { "—" } }
                    }
                } }
            }
        }
    }
}

/// Sets one ReadWrite variable from the device-model table (maintenance only).
fn set_variable_form(viewer: &Viewer, here: &str, v: &VariableOut) -> Markup {
    html! {
        form.inline method="post" action={ (here) "/variables" } {
            (csrf_input(viewer))
            input type="hidden" name="component" value=(v.component);
            @if let Some(i) = &v.component_instance { input type="hidden" name="component_instance" value=(i); }
            @if let Some(e) = v.evse_id { input type="hidden" name="evse_id" value=(e); }
            @if let Some(k) = v.connector_id { input type="hidden" name="connector_id" value=(k); }
            input type="hidden" name="variable" value=(v.variable);
            @if let Some(i) = &v.variable_instance { input type="hidden" name="variable_instance" value=(i); }
            input type="hidden" name="attribute" value=(v.attribute);
            input type="text" name="value" aria-label={ "Value of " (v.variable) } value=(v.value.as_deref().unwrap_or_default());
            button type="submit" { "Set" }
        }
    }
}

/// The remote maintenance forms of a charger's page (for those who may maintain it).
fn maintenance_forms(viewer: &Viewer, here: &str) -> Markup {
    html! {
        h2 { "Remote maintenance" }
        div.actions {
            form method="post" action={ (here) "/reset" } {
                (csrf_input(viewer))
                label for="reset-type" { "Reset" }
                select #reset-type name="type" {
                    option value="soft" selected { "soft (when idle)" }
                    option value="hard" { "hard (now)" }
                }
                button #reset type="submit" { "Reset" }
            }
            form method="post" action={ (here) "/firmware" } {
                (csrf_input(viewer))
                label for="firmware-location" { "Firmware URL" }
                input #firmware-location type="url" name="location" required placeholder="https://firmware.example.com/cp-2.1.bin";
                button type="submit" { "Update firmware" }
            }
            form method="post" action={ (here) "/availability" } {
                (csrf_input(viewer))
                label for="availability-type" { "Availability" }
                select #availability-type name="type" {
                    option value="operative" { "operative" }
                    option value="inoperative" { "inoperative" }
                }
                button type="submit" { "Set availability" }
            }
            form method="post" action={ (here) "/trigger" } {
                (csrf_input(viewer))
                label for="trigger-message" { "Ask for" }
                select #trigger-message name="message" {
                    @for m in TRIGGERS { option value=(m) { (m) } }
                }
                button type="submit" { "Trigger" }
            }
        }
    }
}

/// The charger's credentials (for those with charger security): when its password changed,
/// the changes waiting for it, and a button that sends a new one.
fn security_section(viewer: &Viewer, here: &str, c: &chargers::ChargerOut, with_ca: bool) -> Markup {
    let waiting = c.password_changes.as_deref().unwrap_or_default();
    html! {
        h2 { "Security" }
        dl.facts #security {
            dt { "Password changed" } dd { @if c.password_changed_at.is_some() { (when(c.password_changed_at)) } @else { "not since registration" } }
            dt { "Certificate" }
            dd {
                @match (&c.certificate_serial, c.certificate_expires_at) {
                    (Some(serial), Some(until)) => { "serial " code { (serial) } ", expires " (when(Some(until))) }
                    _ => "none issued by voltgate",
                }
            }
            dt { "Waiting for the charger" }
            dd {
                @if waiting.is_empty() { "nothing" } @else {
                    @for (i, w) in waiting.iter().enumerate() {
                        @if i > 0 { ", " }
                        "new password sent " (when(Some(w.offered_at))) " " (badge(w.state))
                    }
                    " (its old password works until it connects with the new one)"
                }
            }
        }
        form method="post" action={ (here) "/password" } {
            (csrf_input(viewer))
            button #change-password type="submit" { "Change password" }
            " a new random password, sent to the charger; nobody needs to know it"
        }
        @if with_ca {
            form method="post" action={ (here) "/certificate" } {
                (csrf_input(viewer))
                button #request-certificate type="submit" { "Issue certificate" }
                " the charger sends a CSR, voltgate's CA signs it (security profile 3)"
            }
        }
    }
}

/// The charger's local authorisation list: whether it keeps one, how far it is in step.
fn local_list_section(viewer: &Viewer, here: &str, l: &LocalListOut, maintain: bool) -> Markup {
    html! {
        h2 { "Local authorisation list" }
        dl.facts #local-list {
            dt { "State" } dd { (badge(l.state)) @if !l.enabled { " (neither the charger nor its site keeps one)" } }
            dt { "Version / entries" } dd { (l.version) " / " (l.entries) }
            dt { "Still to send" }
            dd { (l.pending_changes) " entries" @if l.full_sync_pending { " (the whole list)" } }
            dt { "Last sync" } dd { (when(l.synced_at)) }
            @if let Some(e) = &l.last_error { dt { "Last error" } dd { (e) } }
            dt { "Cache" }
            dd {
                @if l.clear_cache_pending { "to be cleared (a card it may have cached was blocked)" }
                @else { "cleared " (when(l.cache_cleared_at)) }
            }
        }
        @if maintain && l.enabled {
            form method="post" action={ (here) "/local-list" } {
                (csrf_input(viewer))
                button #sync-local-list type="submit" { "Send the whole list" }
            }
        }
    }
}

/// A form with nothing but its CSRF token.
#[derive(Debug, serde::Deserialize)]
pub struct NoFields {}

/// `POST /chargers/{id}/local-list`: the whole list sent again.
pub async fn sync_local_list(
    State(state): State<AppState>,
    Path(id): Path<ChargerId>,
    s: Submitted<NoFields>,
) -> PageResult {
    let NoFields {} = s.form;
    let outcome = commands::local_list::force(&state, &s.viewer.principal, &id)
        .await
        .map(|l| format!("Local list: {} (version {}, {} entries)", l.state, l.version, l.entries))
        .map_err(|e| {
            let e = ApiError::from(e);
            let message = format!("Local list sync failed: {}", e.message());
            ApiError::new(e.status(), "command_failed", message)
        });
    super::after_form(&state, outcome, &href(&id))
}

/// Sends a command and comes back to the charger's page with the charger's answer, or why
/// there was none (offline, timeout, CALLERROR).
async fn run(state: &AppState, viewer: &Viewer, id: &str, label: &str, cmd: Command) -> PageResult {
    let outcome = commands::execute(state, &viewer.principal, id, cmd)
        .await
        .map(|reply| format!("{label}: the charger answered {}", reply.status))
        .map_err(|e| {
            let e = ApiError::from(e);
            let message = format!("{label} failed: {}", e.message());
            ApiError::new(e.status(), "command_failed", message)
        });
    super::after_form(state, outcome, &href(id))
}

/// `POST /chargers/{id}/password`: a generated password, sent to the charger.
pub async fn password(
    State(state): State<AppState>,
    Path(id): Path<ChargerId>,
    s: Submitted<commands::PasswordBody>,
) -> PageResult {
    run(&state, &s.viewer, &id, "Password change", Command::Password(s.form)).await
}

/// `POST /chargers/{id}/certificate`: asks the charger for a CSR for voltgate's CA to sign.
pub async fn certificate(
    State(state): State<AppState>,
    Path(id): Path<ChargerId>,
    s: Submitted<commands::CertificateRequest>,
) -> PageResult {
    let cmd = Command::RequestCertificate(s.form);
    run(&state, &s.viewer, &id, "Certificate request", cmd).await
}

/// `POST /chargers/{id}/reset`
pub async fn reset(State(state): State<AppState>, Path(id): Path<ChargerId>, s: Submitted<ResetBody>) -> PageResult {
    let label = format!(
        "Reset ({})",
        if s.form.kind == commands::ResetKind::Hard {
            "hard"
        } else {
            "soft"
        }
    );
    run(&state, &s.viewer, &id, &label, Command::Reset(s.form)).await
}

/// `POST /chargers/{id}/variables`: one value from the device-model table.
pub async fn set_variable(
    State(state): State<AppState>,
    Path(id): Path<ChargerId>,
    s: Submitted<VariableSetting>,
) -> PageResult {
    let label = format!("Setting {}", s.form.variable);
    let cmd = Command::SetVariables(SetVariablesBody { items: vec![s.form] });
    run(&state, &s.viewer, &id, &label, cmd).await
}

/// `POST /chargers/{id}/unlock`
pub async fn unlock(State(state): State<AppState>, Path(id): Path<ChargerId>, s: Submitted<UnlockBody>) -> PageResult {
    let label = format!("Unlock of connector {}", s.form.connector_id);
    run(&state, &s.viewer, &id, &label, Command::Unlock(s.form)).await
}

/// `POST /chargers/{id}/availability`: the whole charger operative or inoperative.
pub async fn availability(
    State(state): State<AppState>,
    Path(id): Path<ChargerId>,
    s: Submitted<AvailabilityBody>,
) -> PageResult {
    let label = format!(
        "Availability ({})",
        if s.form.kind == AvailabilityKind::Operative {
            "operative"
        } else {
            "inoperative"
        }
    );
    run(&state, &s.viewer, &id, &label, Command::Availability(s.form)).await
}

/// `POST /chargers/{id}/trigger`: asks the charger to send one of its messages now.
pub async fn trigger(
    State(state): State<AppState>,
    Path(id): Path<ChargerId>,
    s: Submitted<TriggerBody>,
) -> PageResult {
    let label = format!("Trigger of {}", s.form.message);
    run(&state, &s.viewer, &id, &label, Command::Trigger(s.form)).await
}

/// `POST /chargers/{id}/firmware`
pub async fn firmware(
    State(state): State<AppState>,
    Path(id): Path<ChargerId>,
    s: Submitted<FirmwareBody>,
) -> PageResult {
    run(&state, &s.viewer, &id, "Firmware update", s.form.into_command()).await
}
