//! Webhooks through the gate: who may send a subtree's alerts where (`webhooks: manage`,
//! operators and facility managers). What is sent and when is `crate::alerts`.

use chrono::{DateTime, Utc};
use entity::values::{DeliveryState, WebhookEvent};
use entity::{webhook, webhook_delivery};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Audit, ListQuery, Result, gate, invalid, list_scope, named_organisation, owned};
use crate::access::{Permission, Principal, cap};
use crate::state::AppState;
use crate::store::NewWebhook;

/// Longest wait `offline_after_s` may ask for (a day).
const MAX_OFFLINE_AFTER_S: u32 = 86_400;

/// `POST /api/v1/webhooks`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookIn {
    pub organisation_id: i32,
    /// Where deliveries are POSTed (`http://` or `https://`).
    #[schema(max_length = 2000)]
    pub url: String,
    /// The HMAC-SHA256 key (16 to 200 characters); generated when absent and shown once.
    #[schema(min_length = 16, max_length = 200)]
    pub secret: Option<String>,
    #[schema(min_items = 1)]
    pub events: Vec<WebhookEvent>,
    /// How long a charger must be offline before `charger.offline` (so a reboot pages no one),
    /// and back online before `charger.online`; default 300.
    #[schema(maximum = 86400)]
    pub offline_after_s: Option<u32>,
}

/// A webhook as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookOut {
    pub id: i32,
    pub organisation_id: i32,
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub offline_after_s: i32,
    pub created_by: Option<i32>,
    pub created_at: DateTime<Utc>,
    /// The signing key, on the answer that created it only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<webhook::Model> for WebhookOut {
    fn from(w: webhook::Model) -> Self {
        Self {
            events: events_of(&w),
            id: w.id,
            organisation_id: w.organisation_id,
            url: w.url,
            offline_after_s: w.offline_after_s,
            created_by: w.created_by,
            created_at: w.created_at,
            secret: None,
        }
    }
}

/// The events a stored webhook asks for (one it cannot read asks for none).
pub fn events_of(w: &webhook::Model) -> Vec<WebhookEvent> {
    serde_json::from_value(w.events.clone()).unwrap_or_default()
}

/// One delivery of a webhook.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryOut {
    pub id: i64,
    pub event: String,
    pub charger_id: Option<String>,
    pub state: DeliveryState,
    pub attempts: i32,
    /// The receiver's HTTP status at the last attempt.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The JSON body as it was signed.
    pub body: serde_json::Value,
}

impl From<webhook_delivery::Model> for DeliveryOut {
    fn from(d: webhook_delivery::Model) -> Self {
        Self {
            body: serde_json::from_str(&d.body).unwrap_or(serde_json::Value::Null),
            id: d.id,
            event: d.event,
            charger_id: d.charger_id,
            state: d.state,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        }
    }
}

/// Webhooks of the caller's subtrees.
pub async fn list(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<WebhookOut>> {
    let scope = list_scope(state, p, Permission::WebhooksManage, q, "webhook.list").await?;
    let rows = state.store.webhooks_in(&scope, q.page()?).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// One webhook.
pub async fn get(state: &AppState, p: &Principal, id: i32) -> Result<WebhookOut> {
    let found = state.store.webhook(id).await?;
    let (w, _) = owned::<cap::WebhooksManage, _>(state, p, found, id, "webhook.read").await?;
    Ok(w.into())
}

/// Creates a webhook; the answer carries its secret, the only time it is shown.
pub async fn create(state: &AppState, p: &Principal, input: NewWebhookIn) -> Result<WebhookOut> {
    let action = "webhook.create";
    let url = input.url.trim();
    let parsed: axum::http::Uri = url.parse().map_err(|e| invalid("url", format!("{e}")))?;
    if !matches!(parsed.scheme_str(), Some("http" | "https")) || parsed.host().is_none() || url.len() > 2000 {
        return Err(invalid(
            "url",
            "must be an http:// or https:// URL of at most 2000 characters",
        ));
    }
    if input.events.is_empty() {
        return Err(invalid("events", "name at least one event"));
    }
    let mut events = input.events.clone();
    events.sort_by_key(|e| e.to_string());
    events.dedup();
    let offline_after_s = input.offline_after_s.unwrap_or(300);
    if offline_after_s > MAX_OFFLINE_AFTER_S {
        return Err(invalid("offline_after_s", format!("at most {MAX_OFFLINE_AFTER_S}")));
    }
    let secret = match &input.secret {
        Some(s) if !(16..=200).contains(&s.chars().count()) => {
            return Err(invalid("secret", "must be 16 to 200 characters"));
        }
        Some(s) => s.clone(),
        None => crate::crypto::random_token(32),
    };
    let org = named_organisation(state, p, input.organisation_id, action).await?;
    let target = super::Target::new("webhook").org(org.id);
    let auth = gate::<cap::WebhooksManage>(state, p, &org, action, target).await?;
    let new = NewWebhook {
        url: url.to_owned(),
        secret: secret.clone(),
        events: serde_json::to_value(&events).map_err(|e| super::Error::Internal(e.to_string()))?,
        offline_after_s: i32::try_from(offline_after_s).unwrap_or(i32::MAX),
        created_by: p.user_id(),
    };
    let w = state.store.create_webhook(&auth, new).await?;
    Audit::new(p, action, super::gate::Owned::target(&w))
        .detail(format!("{} for {}", w.url, events.len()))
        .ok(state)
        .await;
    let mut out = WebhookOut::from(w);
    out.secret = Some(secret);
    Ok(out)
}

/// Deletes a webhook; nothing more is sent to it.
pub async fn delete(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let found = state.store.webhook(id).await?;
    super::gate::delete_owned::<cap::WebhooksManage, _>(state, p, found, id, async |auth, w| {
        state.store.delete_webhook(auth, w).await
    })
    .await
}

/// A webhook's deliveries, newest first.
pub async fn deliveries(state: &AppState, p: &Principal, id: i32, q: &ListQuery) -> Result<Vec<DeliveryOut>> {
    let found = state.store.webhook(id).await?;
    let (w, _) = owned::<cap::WebhooksManage, _>(state, p, found, id, "webhook.deliveries").await?;
    let rows = state.store.webhook_deliveries(w.id, q.page()?).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
