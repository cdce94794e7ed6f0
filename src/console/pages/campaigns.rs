//! Campaigns: the list with each one's progress, a form that starts one over a charger filter,
//! and a campaign's page with its chargers' answers and pause, resume and cancel.

use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Empty, Paging, after_form, optional};
use crate::access::Permission;
use crate::commands::campaign::{self, CampaignCommand, CampaignCounts, CampaignTarget, NewCampaignIn, Steer};
use crate::commands::{FirmwareBody, ResetBody, ResetKind};
use crate::console::layout::{badge, charger_href, csrf_input, empty, or_dash, page, when};
use crate::console::session::{Submitted, Viewer};
use crate::console::{PageResult, org_choices};
use crate::http::extract::Path;
use crate::state::AppState;

/// The commands the form offers (the API takes every campaign command).
const KINDS: &[(&str, &str)] = &[
    ("reset_soft", "Reset (soft)"),
    ("reset_hard", "Reset (hard)"),
    ("firmware", "Firmware update"),
    ("clear_cache", "Clear authorisation cache"),
    ("local_list", "Send the local list again"),
];

/// The new-campaign form.
#[derive(Debug, Deserialize)]
pub struct CampaignForm {
    #[serde(default)]
    name: String,
    organisation_id: i32,
    #[serde(default)]
    kind: String,
    #[serde(default, deserialize_with = "optional")]
    location: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    vendor: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    model: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    firmware_version: Option<String>,
    #[serde(default, deserialize_with = "super::lenient")]
    concurrency: Option<u32>,
    #[serde(default, deserialize_with = "super::lenient")]
    max_failure_ratio: Option<f64>,
}

impl CampaignForm {
    fn command(&self) -> Result<CampaignCommand, crate::services::Error> {
        let reset = |kind| CampaignCommand::Reset(ResetBody { kind });
        Ok(match self.kind.as_str() {
            "reset_soft" => reset(ResetKind::Soft),
            "reset_hard" => reset(ResetKind::Hard),
            "clear_cache" => CampaignCommand::ClearCache,
            "local_list" => CampaignCommand::LocalList,
            "firmware" => CampaignCommand::Firmware(FirmwareBody {
                location: self
                    .location
                    .clone()
                    .ok_or_else(|| crate::services::invalid("location", "a firmware update needs its URL"))?,
                retrieve_at: None,
                retries: None,
                retry_interval_s: None,
                signing_certificate: None,
                signature: None,
            }),
            _ => return Err(crate::services::invalid("kind", "choose a command")),
        })
    }
}

fn progress(c: &CampaignCounts) -> Markup {
    let ended = c.succeeded + c.failed + c.expired + c.cancelled + c.interrupted;
    html! {
        progress max=(c.total.max(1)) value=(ended) aria-label="Chargers done" { (ended) " of " (c.total) }
        " " (ended) " / " (c.total)
        @if c.failed > 0 { " · " span.bad { (c.failed) " failed" } }
    }
}

/// `GET /campaigns`
pub async fn list(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    let p = &viewer.principal;
    let rows = campaign::list(&state, p, &paging.query()).await?;
    let orgs = org_choices(&state, p, Permission::RemoteMaintenance).await?;
    let body = html! {
        (paging.filter("/campaigns", &orgs))
        @if rows.is_empty() { (empty("campaigns")) } @else {
            table {
                thead { tr { th { "Campaign" } th { "Command" } th { "State" } th { "Progress" } th { "Started" } } }
                tbody #campaigns data-live { @for c in &rows {
                    tr {
                        td { a href={ "/campaigns/" (c.id) } { (c.name) } }
                        td { (kind_of(&c.command)) }
                        td { (badge(c.state)) }
                        td { (progress(&c.counts)) }
                        td { (when(Some(c.created_at))) }
                    }
                } }
            }
            (paging.links("/campaigns", rows.len()))
        }
        h2 { "Start a campaign" }
        p { "Every charger of the organisation (and below) that you may command, narrowed by the filters, is sent the command; "
            "offline ones get it when they are back." }
        form.stacked method="post" action="/campaigns" {
            (csrf_input(&viewer))
            label for="name" { "Name" }
            input #name name="name" required maxlength="200";
            label for="organisation_id" { "Organisation" }
            select #organisation_id name="organisation_id" required {
                @for (id, name) in &orgs { option value=(id) { (name) } }
            }
            label for="kind" { "Command" }
            select #kind name="kind" required {
                @for (value, label) in KINDS { option value=(value) { (label) } }
            }
            label for="location" { "Firmware URL " small { "(firmware updates)" } }
            input #location name="location" type="url";
            label for="vendor" { "Only vendor " small { "(optional)" } }
            input #vendor name="vendor";
            label for="model" { "Only model " small { "(optional)" } }
            input #model name="model";
            label for="firmware_version" { "Only firmware version " small { "(optional)" } }
            input #firmware_version name="firmware_version";
            label for="concurrency" { "Chargers at a time" }
            input #concurrency name="concurrency" type="number" min="1" max="1000" value="10";
            label for="max_failure_ratio" { "Pause when this share has failed" }
            input #max_failure_ratio name="max_failure_ratio" type="number" min="0" max="1" step="0.05" value="0.2";
            button type="submit" { "Start campaign" }
        }
    };
    Ok(page(&state, &viewer, "/campaigns", "Campaigns", body))
}

fn kind_of(c: &CampaignCommand) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v["kind"].as_str().map(|k| k.replace('_', " ")))
        .unwrap_or_default()
}

/// `POST /campaigns`
pub async fn create(State(state): State<AppState>, s: Submitted<CampaignForm>) -> PageResult {
    let f = s.form;
    let command = match f.command() {
        Ok(c) => c,
        Err(e) => return after_form(&state, Err::<String, _>(e), "/campaigns"),
    };
    let input = NewCampaignIn {
        name: f.name.clone(),
        command,
        target: CampaignTarget {
            organisation_id: Some(f.organisation_id),
            vendor: f.vendor.clone(),
            model: f.model.clone(),
            firmware_version: f.firmware_version.clone(),
            ..Default::default()
        },
        concurrency: f.concurrency,
        max_failure_ratio: f.max_failure_ratio,
        deadline: None,
    };
    match campaign::create(&state, &s.viewer.principal, input).await {
        Ok(c) => {
            let done = format!("Campaign #{} started over {} chargers", c.id, c.counts.total);
            after_form(
                &state,
                Ok::<_, crate::services::Error>(done),
                &format!("/campaigns/{}", c.id),
            )
        }
        Err(e) => after_form(&state, Err::<String, _>(e), "/campaigns"),
    }
}

/// `GET /campaigns/{id}`
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i32>) -> PageResult {
    let page_all = crate::store::Page {
        limit: crate::store::Page::MAX_LIMIT,
        offset: 0,
    };
    let c = campaign::show(&state, &viewer.principal, id, page_all).await?;
    let live = matches!(
        c.state,
        entity::values::CampaignState::Running | entity::values::CampaignState::Paused
    );
    let body = html! {
        div #progress data-live {
        p { (kind_of(&c.command)) " · " (badge(c.state)) " · " (progress(&c.counts)) }
        @if let Some(reason) = &c.reason { p.bad role="status" { (reason) } }
        dl.facts {
            dt { "At a time" } dd { (c.concurrency) }
            dt { "Pauses past" } dd { (format!("{:.0} % failed", c.max_failure_ratio * 100.0)) }
            dt { "Deadline" } dd { (when(c.deadline)) }
            dt { "Waiting" } dd { (c.counts.queued) " queued, " (c.counts.sending + c.counts.installing) " in flight" }
        }
        }
        @if live {
            div.actions {
                @for (how, label) in [("pause", "Pause"), ("resume", "Resume"), ("cancel", "Cancel")] {
                    form.inline method="post" action={ "/campaigns/" (c.id) "/" (how) } {
                        (csrf_input(&viewer))
                        button type="submit" { (label) }
                    }
                }
            }
        }
        h2 { "Chargers" }
        table {
            thead { tr { th { "Charger" } th { "State" } th { "Answer" } th { "Reason" } th { "Updated" } } }
            tbody #steps data-live { @for r in c.chargers.iter().flatten() {
                tr {
                    td { a href=(charger_href(&r.charger_id)) { (r.charger_id) } }
                    td { (badge(r.state)) }
                    td { (or_dash(r.answer.as_deref())) }
                    td { (or_dash(r.status_info.as_deref().or(r.detail.as_deref()))) }
                    td { (when(Some(r.updated_at))) }
                }
            } }
        }
    };
    Ok(page(&state, &viewer, "/campaigns", &c.name, body))
}

/// `POST /campaigns/{id}/{pause|resume|cancel}`
pub async fn steer(
    State(state): State<AppState>,
    Path((id, how)): Path<(i32, Steer)>,
    s: Submitted<Empty>,
) -> PageResult {
    let back = format!("/campaigns/{id}");
    let outcome = campaign::steer(&state, &s.viewer.principal, id, how)
        .await
        .map(|c| format!("Campaign #{} is {}", c.id, c.state));
    after_form(&state, outcome, &back)
}
