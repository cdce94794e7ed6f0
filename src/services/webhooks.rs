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

/// The events sorted and once each, and the offline wait (default 300 s).
fn wanted(events: &[WebhookEvent], offline_after_s: Option<u32>) -> Result<(serde_json::Value, i32)> {
    if events.is_empty() {
        return Err(invalid("events", "name at least one event"));
    }
    let mut events = events.to_vec();
    events.sort_by_key(|e| e.to_string());
    events.dedup();
    let offline_after_s = offline_after_s.unwrap_or(300);
    if offline_after_s > MAX_OFFLINE_AFTER_S {
        return Err(invalid("offline_after_s", format!("at most {MAX_OFFLINE_AFTER_S}")));
    }
    let events = serde_json::to_value(&events).map_err(|e| super::Error::Internal(e.to_string()))?;
    Ok((events, i32::try_from(offline_after_s).unwrap_or(i32::MAX)))
}

/// A stored webhook (a subscription is not one).
async fn found(state: &AppState, id: i32) -> Result<Option<webhook::Model>> {
    Ok(state.store.webhook(id).await?.filter(|w| w.subscriber_id.is_none()))
}

/// One webhook.
pub async fn get(state: &AppState, p: &Principal, id: i32) -> Result<WebhookOut> {
    let found = found(state, id).await?;
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
    let (events, offline_after_s) = wanted(&input.events, input.offline_after_s)?;
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
        events,
        offline_after_s,
        created_by: p.user_id(),
    };
    let w = state.store.create_webhook(&auth, new).await?;
    Audit::new(p, action, super::gate::Owned::target(&w))
        .detail(format!("{} for {}", w.url, events_of(&w).len()))
        .ok(state)
        .await;
    let mut out = WebhookOut::from(w);
    out.secret = Some(secret);
    Ok(out)
}

/// Deletes a webhook; nothing more is sent to it.
pub async fn delete(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let found = found(state, id).await?;
    super::gate::delete_owned::<cap::WebhooksManage, _>(state, p, found, id, async |auth, w| {
        state.store.delete_webhook(auth, w).await
    })
    .await
}

/// A webhook's deliveries, newest first.
pub async fn deliveries(state: &AppState, p: &Principal, id: i32, q: &ListQuery) -> Result<Vec<DeliveryOut>> {
    let found = found(state, id).await?;
    let (w, _) = owned::<cap::WebhooksManage, _>(state, p, found, id, "webhook.deliveries").await?;
    let rows = state.store.webhook_deliveries(w.id, q.page()?).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// `POST /api/v1/me/subscriptions`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscriptionIn {
    /// The subtree whose alerts are mailed (its chargers the subscriber may read, at each mail).
    pub organisation_id: i32,
    #[schema(min_items = 1)]
    pub events: Vec<WebhookEvent>,
    /// As for a webhook; default 300.
    #[schema(maximum = 86400)]
    pub offline_after_s: Option<u32>,
}

/// One of the caller's e-mail subscriptions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscriptionOut {
    pub id: i32,
    pub organisation_id: i32,
    pub events: Vec<WebhookEvent>,
    pub offline_after_s: i32,
    pub created_at: DateTime<Utc>,
}

impl From<webhook::Model> for SubscriptionOut {
    fn from(w: webhook::Model) -> Self {
        Self {
            events: events_of(&w),
            id: w.id,
            organisation_id: w.organisation_id,
            offline_after_s: w.offline_after_s,
            created_at: w.created_at,
        }
    }
}

/// The caller's e-mail subscriptions.
pub async fn subscriptions(state: &AppState, p: &Principal) -> Result<Vec<SubscriptionOut>> {
    let Some(user_id) = p.user_id() else {
        return Ok(Vec::new());
    };
    let rows = state.store.subscriptions_of(user_id).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// Subscribes the caller to a subtree's alerts by e-mail: a subtree whose chargers it may
/// read, with an address on its account and SMTP configured. Each mail is checked again
/// against the gate for its charger, so a grant that ends stops the mails.
pub async fn subscribe(state: &AppState, p: &Principal, input: NewSubscriptionIn) -> Result<SubscriptionOut> {
    let action = "subscription.create";
    let (events, offline_after_s) = wanted(&input.events, input.offline_after_s)?;
    let org = named_organisation(state, p, input.organisation_id, action).await?;
    let target = super::Target::new("subscription").org(org.id);
    let auth = gate::<cap::ChargersRead>(state, p, &org, action, target).await?;
    let Some(user) = (match p.user_id() {
        Some(id) => state.store.user(id).await?,
        None => None,
    }) else {
        return Err(invalid("user", "only a user account can subscribe"));
    };
    if state.mailer.is_none() {
        return Err(super::Error::Conflict(
            "e-mail is not configured on this server ([smtp])".into(),
        ));
    }
    if user.email.is_none() {
        return Err(invalid("email", "your account has no e-mail address to send alerts to"));
    }
    let new = NewWebhook {
        url: String::new(),
        secret: String::new(),
        events,
        offline_after_s,
        created_by: Some(user.id),
    };
    let w = state.store.create_subscription(&auth, user.id, new).await?;
    Audit::new(
        p,
        action,
        super::Target::new(format!("subscription:{}", w.id)).org(org.id),
    )
    .ok(state)
    .await;
    Ok(w.into())
}

/// Ends one of the caller's subscriptions (404 for anyone else's).
pub async fn unsubscribe(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let mine = match p.user_id() {
        Some(user_id) => state.store.delete_subscription(user_id, id).await?,
        None => false,
    };
    if !mine {
        return Err(super::Error::NotFound(format!("subscription {id}")));
    }
    Audit::new(
        p,
        "subscription.delete",
        super::Target::new(format!("subscription:{id}")),
    )
    .ok(state)
    .await;
    Ok(())
}

/// Whether a subscriber may be told of an event now: they may read its charger, or for a
/// campaign's event the subscription's organisation. Asked quietly (no audit row per mail):
/// nothing is shown to the subscriber when the answer is no.
pub async fn may_be_told(
    state: &AppState,
    p: &Principal,
    w: &webhook::Model,
    charger_id: Option<&str>,
) -> Result<bool> {
    let store = &state.store;
    let (org_id, charger) = match charger_id {
        Some(id) => match store.charger(id).await? {
            Some(c) => (c.organisation_id, Some(c)),
            None => return Ok(false),
        },
        None => (Some(w.organisation_id), None),
    };
    let Some(org) = (match org_id {
        Some(id) => store.organisation(id).await?,
        None => None,
    }) else {
        return Ok(false);
    };
    Ok(match p.grant_on(Permission::ChargersRead, (&org).into()) {
        None => false,
        Some(crate::access::Grant::HomeChargers) => match &charger {
            Some(c) => super::chargers::at_home(state, c).await?,
            None => false,
        },
        Some(_) => true,
    })
}
