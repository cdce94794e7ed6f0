//! Turning what the store holds into deliveries, webhook by webhook over its subtree:
//!
//! - **offline / online**: a charger not connected anywhere and not seen for the webhook's
//!   `offline_after_s` opens an incident (`charger.offline`); it is resolved
//!   (`charger.online`) once the charger has been back for as long again, so a reboot pages no
//!   one and a charger that drops in and out is one incident with one opened and one resolved;
//! - **faults**: a charger with an open fault opens an incident (`charger.fault`, its faults
//!   listed), resolved when the last one clears (`charger.fault_cleared`);
//! - **timeline**: critical security events and failed firmware updates, each once, behind a
//!   per-webhook cursor; **campaigns** that paused themselves or ended, the same.
//!
//! Incidents and deliveries carry keys unique per webhook, so nodes watching side by side
//! announce each thing once.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use entity::values::{IncidentKind, WebhookEvent as E};
use entity::webhook;
use serde_json::{Value, json};

use crate::services::webhooks::events_of;
use crate::state::AppState;
use crate::store::{NewDelivery, Result};

/// Watches every webhook's subtree from one node.
pub(super) struct Watcher {
    state: AppState,
    /// A node that just started has not seen its chargers reconnect yet: nobody counts as
    /// offline from before it.
    started: DateTime<Utc>,
    /// Announced-offline chargers seen back online, per webhook, and since when.
    back_since: HashMap<(i32, String), Instant>,
}

impl Watcher {
    pub(super) fn new(state: AppState) -> Self {
        Self {
            state,
            started: Utc::now(),
            back_since: HashMap::new(),
        }
    }

    /// One look at every webhook.
    pub(super) async fn round(&mut self) -> Result<()> {
        let store = self.state.store.clone();
        for w in store.all_webhooks().await? {
            let events = events_of(&w);
            let Some(org) = store.organisation(w.organisation_id).await? else {
                continue;
            };
            let wants = |e: &[E]| e.iter().any(|e| events.contains(e));
            let hook = Hook {
                w: &w,
                path: &org.path,
                events: &events,
            };
            if wants(&[E::Offline, E::Online]) {
                self.offline(&hook).await?;
            }
            if wants(&[E::Fault, E::FaultCleared]) {
                self.faults(&hook).await?;
            }
            if wants(&[
                E::SecurityCritical,
                E::FirmwareFailed,
                E::CampaignPaused,
                E::CampaignDone,
            ]) {
                self.timeline(&hook).await?;
            }
        }
        Ok(())
    }

    async fn offline(&mut self, h: &Hook<'_>) -> Result<()> {
        let (store, fleet) = (&self.state.store, &self.state.fleet);
        let w = h.w;
        let after = TimeDelta::seconds(i64::from(w.offline_after_s));
        let now = Utc::now();
        if self.started <= now - after {
            for (charger_id, _, last_seen) in store.quiet_chargers(h.path, now - after, w.id).await? {
                if fleet.is_online(&charger_id) {
                    continue;
                }
                let since = last_seen.unwrap_or(now);
                if store
                    .open_incident(w.id, &charger_id, IncidentKind::Offline, since)
                    .await?
                {
                    let data = json!({"offline_since": since});
                    h.queue(store, E::Offline, &charger_id, since, data).await?;
                }
            }
        }
        let hold = std::time::Duration::from_secs(u64::try_from(w.offline_after_s).unwrap_or(0));
        for incident in store.incidents(w.id, IncidentKind::Offline).await? {
            let key = (w.id, incident.charger_id.clone());
            if !fleet.is_online(&incident.charger_id) {
                self.back_since.remove(&key);
                continue;
            }
            let back = *self.back_since.entry(key.clone()).or_insert_with(Instant::now);
            if back.elapsed() < hold {
                continue;
            }
            self.back_since.remove(&key);
            if store
                .close_incident(w.id, &incident.charger_id, IncidentKind::Offline)
                .await?
            {
                let data = json!({"offline_since": incident.opened_at, "online_at": now});
                h.queue(store, E::Online, &incident.charger_id, incident.opened_at, data)
                    .await?;
            }
        }
        Ok(())
    }

    async fn faults(&self, h: &Hook<'_>) -> Result<()> {
        let store = &self.state.store;
        let w = h.w;
        let mut open: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut first: HashMap<String, DateTime<Utc>> = HashMap::new();
        for f in store.faults_under(h.path).await? {
            let at = first.entry(f.charger_id.clone()).or_insert(f.opened_at);
            *at = (*at).min(f.opened_at);
            open.entry(f.charger_id.clone()).or_default().push(json!({
                "evse_id": f.evse_id, "connector_id": f.connector_id, "source": f.key,
                "code": f.code, "info": f.info, "opened_at": f.opened_at,
            }));
        }
        let incidents = store.incidents(w.id, IncidentKind::Fault).await?;
        for incident in &incidents {
            if open.contains_key(&incident.charger_id) {
                continue;
            }
            if store
                .close_incident(w.id, &incident.charger_id, IncidentKind::Fault)
                .await?
            {
                let data = json!({"opened_at": incident.opened_at, "cleared_at": Utc::now()});
                h.queue(store, E::FaultCleared, &incident.charger_id, incident.opened_at, data)
                    .await?;
            }
        }
        for (charger_id, faults) in open {
            if incidents.iter().any(|i| i.charger_id == charger_id) {
                continue;
            }
            let since = first.get(&charger_id).copied().unwrap_or_else(Utc::now);
            if store
                .open_incident(w.id, &charger_id, IncidentKind::Fault, since)
                .await?
            {
                let data = json!({"opened_at": since, "faults": faults});
                h.queue(store, E::Fault, &charger_id, since, data).await?;
            }
        }
        Ok(())
    }

    /// Critical security events, failed firmware updates and settled campaigns since the
    /// webhook's cursors.
    async fn timeline(&self, h: &Hook<'_>) -> Result<()> {
        let store = &self.state.store;
        let w = h.w;
        let top = store.last_event_id().await?;
        let events = store
            .alerting_events(h.path, w.event_cursor, crate::ocpp::FIRMWARE_FAILED)
            .await?;
        let full = events.len() == 500;
        let mut cursor = w.event_cursor;
        for e in events {
            cursor = cursor.max(e.id);
            let event = if e.critical {
                E::SecurityCritical
            } else {
                E::FirmwareFailed
            };
            if !h.events.contains(&event) {
                continue;
            }
            let data =
                json!({"event_id": e.id, "status": e.status, "at": e.at, "audit_id": e.audit_id, "detail": e.detail});
            let key = format!("{event}:{}", e.id);
            h.deliver(store, event, Some(&e.charger_id), key, data).await?;
        }
        if !full {
            cursor = cursor.max(top);
        }
        let mut campaign_cursor = w.campaign_cursor;
        for c in store.campaigns_settled(h.path, w.campaign_cursor).await? {
            campaign_cursor = campaign_cursor.max(c.updated_at);
            let event = if c.state == entity::values::CampaignState::Done {
                E::CampaignDone
            } else {
                E::CampaignPaused
            };
            if !h.events.contains(&event) {
                continue;
            }
            let data = json!({"campaign_id": c.id, "name": c.name, "state": c.state, "reason": c.reason});
            let key = format!("{event}:{}:{}", c.id, c.updated_at.timestamp_micros());
            h.deliver(store, event, None, key, data).await?;
        }
        if cursor != w.event_cursor || campaign_cursor != w.campaign_cursor {
            store.advance_webhook(w.id, cursor, campaign_cursor).await?;
        }
        Ok(())
    }
}

/// One webhook as a round sees it.
struct Hook<'a> {
    w: &'a webhook::Model,
    path: &'a str,
    events: &'a [E],
}

impl Hook<'_> {
    /// Queues an incident's event, if the webhook wants it; the incident is named by its
    /// charger and when it opened.
    async fn queue(
        &self,
        store: &crate::store::Store,
        event: E,
        charger_id: &str,
        opened: DateTime<Utc>,
        data: Value,
    ) -> Result<()> {
        if !self.events.contains(&event) {
            return Ok(());
        }
        let key = format!("{event}:{charger_id}:{}", opened.timestamp_micros());
        self.deliver(store, event, Some(charger_id), key, data).await
    }

    async fn deliver(
        &self,
        store: &crate::store::Store,
        event: E,
        charger_id: Option<&str>,
        key: String,
        data: Value,
    ) -> Result<()> {
        let body = json!({
            "id": key,
            "event": event,
            "at": Utc::now(),
            "organisation_id": self.w.organisation_id,
            "charger_id": charger_id,
            "data": data,
        });
        let queued = store
            .queue_delivery(NewDelivery {
                webhook_id: self.w.id,
                event: event.to_string(),
                dedupe_key: key,
                charger_id: charger_id.map(str::to_owned),
                body: body.to_string(),
            })
            .await?;
        if queued {
            tracing::info!(webhook = self.w.id, %event, charger = charger_id, "webhook event queued");
        }
        Ok(())
    }
}
