//! The message inspector's read side: a charger's OCPP exchanges, newest first, for whoever
//! may read the charger and holds `MessagesRead` (operators, support, maintenance). The
//! frames were stored with their secrets already replaced (`inspector::redact`).

use chrono::{DateTime, Utc};
use entity::values::{FrameKind, MessageDirection};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::chargers::visible_charger;
use super::{Result, Target, gate_seen, invalid};
use crate::access::{Principal, cap};
use crate::state::AppState;
use crate::store::{MessageFilter, StoredMessage};

/// One frame of an exchange.
#[derive(Debug, Serialize, ToSchema)]
pub struct FrameOut {
    pub at: DateTime<Utc>,
    /// `Call`, `CallResult`, `CallError`, or `Malformed` for a frame that is not OCPP-J.
    pub message_type: String,
    /// The CALL's or CALLRESULT's payload; a CALLERROR's `{errorCode, errorDescription,
    /// errorDetails}`; a malformed frame's text as a string.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// Bytes on the wire.
    pub size: i32,
}

/// One exchange: the first frame and its answer, side by side.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `in`: the charger sent the first frame; `out`: voltgate did.
    pub direction: MessageDirection,
    pub action: Option<String>,
    pub message_id: Option<String>,
    pub request: FrameOut,
    /// `null` when no answer was due (an answer to no CALL, a malformed frame left
    /// unanswered).
    pub response: Option<FrameOut>,
    /// `Timeout` when voltgate's CALL got no answer before the call timeout or the
    /// connection ended; otherwise the response's type.
    pub outcome: Option<FrameKind>,
}

impl From<StoredMessage> for MessageOut {
    fn from(stored: StoredMessage) -> Self {
        let m = stored.message;
        let response = match (&m.response, m.responded_at) {
            (Some(text), Some(at)) => Some(frame(text, at, m.response_size.unwrap_or(0))),
            _ => None,
        };
        Self {
            request: frame(&m.request, m.at, m.request_size),
            id: stored.id,
            at: m.at,
            direction: m.direction,
            action: m.action,
            message_id: m.message_id,
            response,
            outcome: m.response_type,
        }
    }
}

/// Reads a stored frame back: its type and payload, or the raw text when it is not OCPP-J.
fn frame(text: &str, at: DateTime<Utc>, size: i32) -> FrameOut {
    let parsed: Option<Vec<Value>> = serde_json::from_str(text).ok();
    let (message_type, payload) = match parsed.as_deref() {
        Some([Value::Number(t), _, _, payload]) if t.as_u64() == Some(2) => ("Call", payload.clone()),
        Some([Value::Number(t), _, payload]) if t.as_u64() == Some(3) => ("CallResult", payload.clone()),
        Some([Value::Number(t), _, code, description, details]) if t.as_u64() == Some(4) => (
            "CallError",
            serde_json::json!({"errorCode": code, "errorDescription": description, "errorDetails": details}),
        ),
        _ => ("Malformed", Value::String(text.to_owned())),
    };
    FrameOut {
        at,
        message_type: message_type.to_owned(),
        payload,
        size,
    }
}

/// `GET /api/v1/chargers/{id}/messages`
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// Exchanges that started before this instant (RFC 3339): the next page.
    pub before: Option<DateTime<Utc>>,
    /// Only this action (`Heartbeat`, `Reset`, ...).
    #[param(max_length = 64)]
    pub action: Option<String>,
    /// `in` (the charger started it) or `out` (voltgate did).
    pub direction: Option<MessageDirection>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub offset: Option<u64>,
}

/// A charger's exchanges, newest first: 404 outside the caller's subtrees (or for a charger
/// it may not read), 403 without `MessagesRead`.
pub async fn list(state: &AppState, p: &Principal, id: &str, q: &MessageQuery) -> Result<Vec<MessageOut>> {
    let action = "charger.messages";
    let (c, org) = visible_charger(state, p, id, action).await?;
    let target = Target::new(format!("charger:{id}")).charger(id).org(org.id);
    let proof = gate_seen::<cap::MessagesRead>(state, p, &org, action, target).await?;
    if q.action.as_ref().is_some_and(|a| a.len() > 64) {
        return Err(invalid("action", "must be at most 64 characters"));
    }
    let filter = MessageFilter {
        before: q.before,
        action: q.action.clone(),
        direction: q.direction,
    };
    let rows = state
        .store
        .messages(&proof, &c.id, &filter, super::page(q.limit, q.offset)?)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
