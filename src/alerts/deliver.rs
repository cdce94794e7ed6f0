//! Sending deliveries: POST the body as stored, signed `X-Voltgate-Signature:
//! t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret, "{t}." + body))`, or, for an e-mail
//! subscription, mail it to its subscriber if the gate still lets them read what it is about.
//! A 2xx (a relay's acceptance) ends it, anything else is tried again after 1, 2, 4, ...
//! seconds (at most an hour apart) until a day has passed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{Request, header};
use chrono::{TimeDelta, Utc};
use entity::values::WebhookEvent;
use entity::webhook::Sink;
use entity::{webhook, webhook_delivery};
use futures_util::StreamExt;
use hmac::{KeyInit, Mac};
use http_body_util::Full;

use crate::state::AppState;
use crate::store::{Attempt, Result};

/// How long one attempt may take.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a sender holds a claimed delivery (more than an attempt takes).
const CLAIM: TimeDelta = TimeDelta::seconds(60);
/// Deliveries claimed per round, and sent at once.
const BATCH: u64 = 64;
const PARALLEL: usize = 16;
/// How long a delivery is retried.
const GIVE_UP_AFTER: TimeDelta = TimeDelta::hours(24);
/// The longest wait between two attempts.
const MAX_BACKOFF_S: i64 = 3_600;

/// The HTTP client deliveries go out with: rustls over the ring provider and the Mozilla roots;
/// redirects are not followed (a receiver that moved says so in the delivery log).
pub(super) type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

pub(super) fn client() -> anyhow::Result<Client> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(https))
}

/// `t=UNIX_SECONDS,v1=HEX(HMAC-SHA256(secret, "{t}." + body))`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body.as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={t},v1={hex}")
}

/// Sends what is due.
pub(super) async fn round(state: &AppState, client: &Client) -> Result<()> {
    let store = &state.store;
    let due = store.claim_deliveries(Utc::now() + CLAIM, BATCH).await?;
    if due.is_empty() {
        return Ok(());
    }
    let mut hooks: HashMap<i32, Option<webhook::Model>> = HashMap::new();
    for d in &due {
        if let std::collections::hash_map::Entry::Vacant(e) = hooks.entry(d.webhook_id) {
            e.insert(store.webhook(d.webhook_id).await?);
        }
    }
    let hooks = &hooks;
    futures_util::stream::iter(due)
        .for_each_concurrent(PARALLEL, |d| async move {
            let Some(Some(w)) = hooks.get(&d.webhook_id) else {
                return;
            };
            let attempt = match w.sink() {
                Sink::Url(url) => post(client, url, w, &d).await,
                Sink::Mail(user_id) => mail(state, user_id, w, &d).await,
            };
            if let Err(e) = store.delivery_attempted(&d, attempt).await {
                tracing::warn!(delivery = d.id, error = %e, "a webhook attempt was not recorded");
            }
        })
        .await;
    Ok(())
}

async fn post(client: &Client, url: &str, w: &webhook::Model, d: &webhook_delivery::Model) -> Attempt {
    let t = Utc::now().timestamp();
    let request = Request::post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, concat!("voltgate/", env!("CARGO_PKG_VERSION")))
        .header("X-Voltgate-Signature", signature(&w.secret, t, &d.body))
        .header("X-Voltgate-Event", &d.event)
        .header("X-Voltgate-Delivery", d.id.to_string())
        .body(Full::new(Bytes::from(d.body.clone())));
    let (status, error) = match request {
        Err(e) => (None, format!("not a request: {e}")),
        Ok(request) => match tokio::time::timeout(ATTEMPT_TIMEOUT, client.request(request)).await {
            Ok(Ok(r)) if r.status().is_success() => {
                return Attempt::Delivered {
                    status: i32::from(r.status().as_u16()),
                };
            }
            Ok(Ok(r)) => (Some(i32::from(r.status().as_u16())), format!("answered {}", r.status())),
            Ok(Err(e)) => (
                None,
                match std::error::Error::source(&e) {
                    Some(cause) => format!("failed: {cause}"),
                    None => format!("failed: {e}"),
                },
            ),
            Err(_) => (None, format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())),
        },
    };
    retry(w, d, status, error)
}

/// Mails a subscription's delivery to its subscriber, if they may still read its charger (or,
/// for a campaign's event, the subscription's organisation) at this moment.
async fn mail(state: &AppState, user_id: i32, w: &webhook::Model, d: &webhook_delivery::Model) -> Attempt {
    let give_up = |error: String| {
        tracing::info!(subscription = w.id, delivery = d.id, %error, "alert mail not sent");
        Attempt::Failed {
            status: None,
            error,
            next: None,
        }
    };
    let Some(mailer) = &state.mailer else {
        return give_up("e-mail is not configured ([smtp])".into());
    };
    let (p, user) = match state.store.principal_of(user_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return give_up("the subscriber's account is gone or disabled".into()),
        Err(e) => return retry(w, d, None, format!("the subscriber not read: {e}")),
    };
    let Some(to) = user.email else {
        return give_up("the subscriber has no e-mail address".into());
    };
    let may_read = crate::services::webhooks::may_be_told(state, &p, w, d.charger_id.as_deref()).await;
    match may_read {
        Ok(true) => {}
        Ok(false) => return give_up("the subscriber may not read it (any more)".into()),
        Err(e) => return retry(w, d, None, format!("the gate not asked: {e}")),
    }
    let (subject, text) = letter(d);
    match mailer.send(&to, &subject, text).await {
        Ok(()) => Attempt::Delivered { status: 250 },
        Err(e) => retry(w, d, None, e.to_string()),
    }
}

/// The subject and text of an alert mail: a sentence, then the delivery's JSON.
fn letter(d: &webhook_delivery::Model) -> (String, String) {
    let body: serde_json::Value = serde_json::from_str(&d.body).unwrap_or_default();
    let data = &body["data"];
    let charger = d.charger_id.as_deref().unwrap_or("?");
    let campaign = data["name"].as_str().unwrap_or("?");
    let event = serde_json::from_value::<WebhookEvent>(serde_json::Value::String(d.event.clone()));
    let what = match event {
        Ok(WebhookEvent::Fault) => format!("Charger {charger} reports a fault"),
        Ok(WebhookEvent::FaultCleared) => format!("Charger {charger}: the fault cleared"),
        Ok(WebhookEvent::Offline) => format!("Charger {charger} is offline"),
        Ok(WebhookEvent::Online) => format!("Charger {charger} is back online"),
        Ok(WebhookEvent::SecurityCritical) => format!("Charger {charger}: a critical security event"),
        Ok(WebhookEvent::FirmwareFailed) => format!("Charger {charger}: a firmware update failed"),
        Ok(WebhookEvent::CampaignPaused) => format!("Campaign {campaign} paused"),
        Ok(WebhookEvent::CampaignDone) => format!("Campaign {campaign} is done"),
        Err(_) => d.event.clone(),
    };
    let details = serde_json::to_string_pretty(data).unwrap_or_default();
    let text = format!(
        "{what}.\n\nEvent: {}\nAt: {}\n\n{details}\n\n-- \nvoltgate: you subscribed to these alerts; \
         end the subscription on your account page.\n",
        d.event,
        body["at"].as_str().unwrap_or_default(),
    );
    (format!("[voltgate] {what}"), text)
}

/// A failed attempt, tried again after a backoff unless a day has passed.
fn retry(w: &webhook::Model, d: &webhook_delivery::Model, status: Option<i32>, error: String) -> Attempt {
    let now = Utc::now();
    let wait = TimeDelta::seconds(
        1_i64
            .checked_shl(d.attempts.clamp(0, 30) as u32)
            .unwrap_or(MAX_BACKOFF_S)
            .min(MAX_BACKOFF_S),
    );
    let next = (now + wait < d.created_at + GIVE_UP_AFTER).then_some(now + wait);
    if next.is_none() {
        tracing::warn!(webhook = w.id, delivery = d.id, %error, "webhook delivery given up after a day");
    }
    Attempt::Failed { status, error, next }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_the_time_and_the_body() {
        // echo -n '1700000000.{"a":1}' | openssl dgst -sha256 -hmac 'whsec-0123456789abcdef'
        assert_eq!(
            signature("whsec-0123456789abcdef", 1_700_000_000, r#"{"a":1}"#),
            "t=1700000000,v1=d77c78ac4da074c56908b55eac30358b2a7bfc573be4c76819af5102e8dcf939"
        );
    }
}
