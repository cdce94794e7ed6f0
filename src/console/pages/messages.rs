//! The message inspector of a charger: its OCPP exchanges newest first, each CALL beside its
//! answer as pretty JSON, filtered by action, direction and time, exported as CSV or JSON.

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use maud::html;
use serde::Deserialize;

use super::{lenient, optional};
use crate::console::PageResult;
use crate::console::layout::charger_href as href;
use crate::console::layout::{badge, empty, or_dash, page, when};
use crate::console::session::Viewer;
use crate::http::extract::Path;
use crate::ocpp::ChargerId;
use crate::services::messages::{self, FrameOut, MessageOut, MessageQuery};
use crate::state::AppState;
use entity::values::MessageDirection;

/// Exchanges per page.
const PAGE: u64 = 50;
/// Exchanges per export.
const EXPORT: u64 = crate::store::Page::MAX_LIMIT;

/// The filter form, read leniently: an unreadable value is ignored.
#[derive(Debug, Default, Deserialize)]
pub struct Filter {
    #[serde(default, deserialize_with = "optional")]
    action: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    direction: Option<String>,
    #[serde(default, deserialize_with = "lenient")]
    before: Option<chrono::DateTime<chrono::Utc>>,
}

impl Filter {
    fn query(&self, limit: u64) -> MessageQuery {
        MessageQuery {
            action: self.action.clone(),
            direction: match self.direction.as_deref() {
                Some("in") => Some(MessageDirection::In),
                Some("out") => Some(MessageDirection::Out),
                _ => None,
            },
            before: self.before,
            limit: Some(limit),
            offset: None,
        }
    }

    /// The query string that repeats this filter (for export and paging links).
    fn params(&self) -> String {
        let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
        let mut parts = Vec::new();
        if let Some(a) = &self.action {
            parts.push(format!("action={}", enc(a)));
        }
        if let Some(d) = &self.direction {
            parts.push(format!("direction={}", enc(d)));
        }
        if let Some(b) = self.before {
            parts.push(format!("before={}", enc(&b.to_rfc3339())));
        }
        parts.join("&")
    }
}

fn pretty(frame: &FrameOut) -> String {
    serde_json::to_string_pretty(&frame.payload).unwrap_or_default()
}

/// `GET /chargers/{id}/messages`
pub async fn show(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ChargerId>,
    Query(filter): Query<Filter>,
) -> PageResult {
    let rows = messages::list(&state, &viewer.principal, &id, &filter.query(PAGE)).await?;
    let here = format!("{}/messages", href(&id));
    let params = filter.params();
    let older = rows.last().filter(|_| rows.len() as u64 == PAGE).map(|m| {
        let next = Filter {
            before: Some(m.at),
            action: filter.action.clone(),
            direction: filter.direction.clone(),
        };
        format!("{here}?{}", next.params())
    });
    let body = html! {
        p { a href=(href(&id)) { "← charger " (id) } }
        form.filter method="get" action=(here) {
            label for="msg-action" { "Action" }
            input #msg-action name="action" value=(filter.action.as_deref().unwrap_or_default()) placeholder="e.g. Heartbeat" maxlength="64";
            label for="msg-direction" { "Direction" }
            select #msg-direction name="direction" {
                option value="" { "Both" }
                option value="in" selected[filter.direction.as_deref() == Some("in")] { "From the charger" }
                option value="out" selected[filter.direction.as_deref() == Some("out")] { "To the charger" }
            }
            button type="submit" { "Show" }
        }
        p.actions {
            a href={ (here) ".csv?" (params) } download { "Export CSV" }
            " · "
            a href={ (here) ".json?" (params) } download { "Export JSON" }
        }
        @if rows.is_empty() { (empty("messages (the log keeps them for ocpp.message_log_retention_h)")) } @else {
            table #messages {
                thead { tr { th { "When" } th { "From" } th { "Action" } th { "Message id" } th { "Request" } th { "Answer" } } }
                tbody { @for m in &rows {
                    tr {
                        td { (when(Some(m.at))) }
                        td { @if m.direction == MessageDirection::In { "charger" } @else { "voltgate" } }
                        td { (or_dash(m.action.as_deref())) }
                        td { code { (or_dash(m.message_id.as_deref())) } }
                        td { small { (m.request.message_type) ", " (m.request.size) " B" } pre { (pretty(&m.request)) } }
                        td {
                            @if let Some(outcome) = &m.outcome { (badge(format!("{outcome:?}"))) }
                            @if let Some(r) = &m.response {
                                small { " " (r.size) " B" }
                                pre { (pretty(r)) }
                            }
                        }
                    }
                } }
            }
            @if let Some(older) = older { nav.paging aria-label="Pages" { a href=(older) { "older →" } } }
        }
    };
    Ok(page(
        &state,
        &viewer,
        "/chargers",
        &format!("OCPP messages of {id}"),
        body,
    ))
}

/// `GET /chargers/{id}/messages.json`
pub async fn export_json(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ChargerId>,
    Query(filter): Query<Filter>,
) -> PageResult {
    let rows = messages::list(&state, &viewer.principal, &id, &filter.query(EXPORT)).await?;
    let body = serde_json::to_string_pretty(&rows).unwrap_or_default();
    Ok(download("application/json", &format!("{id}-messages.json"), body))
}

/// `GET /chargers/{id}/messages.csv`
pub async fn export_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<ChargerId>,
    Query(filter): Query<Filter>,
) -> PageResult {
    let rows = messages::list(&state, &viewer.principal, &id, &filter.query(EXPORT)).await?;
    Ok(download(
        "text/csv; charset=utf-8",
        &format!("{id}-messages.csv"),
        to_csv(&rows),
    ))
}

fn download(content_type: &'static str, name: &str, body: String) -> axum::response::Response {
    // The name is a charger id: printable ASCII, but quotes and backslashes must not end it.
    let name: String = name.chars().filter(|c| *c != '"' && *c != '\\').collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

/// One line per exchange; payloads as compact JSON.
fn to_csv(rows: &[MessageOut]) -> String {
    let mut out = String::from(
        "id,at,direction,action,message_id,request_type,request,request_size,outcome,response,response_size\r\n",
    );
    for m in rows {
        let response = m.response.as_ref();
        let cols = [
            m.id.to_string(),
            m.at.to_rfc3339(),
            format!("{:?}", m.direction).to_lowercase(),
            m.action.clone().unwrap_or_default(),
            m.message_id.clone().unwrap_or_default(),
            m.request.message_type.clone(),
            m.request.payload.to_string(),
            m.request.size.to_string(),
            m.outcome.map(|o| format!("{o:?}")).unwrap_or_default(),
            response.map(|r| r.payload.to_string()).unwrap_or_default(),
            response.map(|r| r.size.to_string()).unwrap_or_default(),
        ];
        let line: Vec<String> = cols
            .iter()
            .map(|c| crate::services::transactions::csv_field(c))
            .collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}
