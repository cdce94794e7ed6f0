//! Tickets from faults: below an organisation with `auto_tickets`, a charger whose fault
//! incident (one fault or more open without a break) has lasted `auto_tickets_after_s` gets a
//! maintenance ticket in its own organisation, which its maintenance users see; the incident's
//! end closes it, with a comment, unless a person closed it first (then that incident opens no
//! other). One open ticket per charger.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use entity::values::TicketStatus;
use entity::{charger_fault, ticket};

use crate::access::{Authorized, Principal, cap};
use crate::state::AppState;
use crate::store::{Result, TicketFields, root_of};

/// One look at every organisation with `auto_tickets`.
pub(super) async fn round(state: &AppState) -> Result<()> {
    let store = &state.store;
    let now = Utc::now();
    for org in store.auto_ticket_organisations().await? {
        let after = TimeDelta::seconds(i64::from(org.auto_tickets_after_s));
        let mut open: BTreeMap<String, (DateTime<Utc>, Vec<charger_fault::Model>)> = BTreeMap::new();
        for f in store.faults_under(&org.path).await? {
            let entry = open.entry(f.charger_id.clone()).or_insert((f.opened_at, Vec::new()));
            entry.0 = entry.0.min(f.opened_at);
            entry.1.push(f);
        }
        let earliest = open.values().map(|(since, _)| *since).min().unwrap_or(now);
        let tickets = store.fault_tickets_under(&org.path, earliest).await?;
        for t in tickets.iter().filter(|t| t.status != TicketStatus::Closed) {
            if t.charger_id.as_ref().is_some_and(|c| !open.contains_key(c)) {
                close(state, t, now).await?;
            }
        }
        for (charger_id, (since, faults)) in open {
            // One ticket per incident: an open one, or the one a person closed.
            let ticketed = tickets.iter().any(|t| {
                t.charger_id.as_deref() == Some(&charger_id)
                    && (t.status != TicketStatus::Closed || t.fault_since == Some(since))
            });
            if ticketed || now - since < after {
                continue;
            }
            open_ticket(state, &charger_id, since, &faults).await?;
        }
    }
    Ok(())
}

/// The platform's proof on `org_id`, as the root's operator (audited as no user).
async fn platform(state: &AppState, org_id: i32) -> Result<Option<Authorized<cap::Tickets>>> {
    let store = &state.store;
    let Some(org) = store.organisation(org_id).await? else {
        return Ok(None);
    };
    let Some(root) = store.organisation(root_of(&org.path)).await? else {
        return Ok(None);
    };
    Ok(Principal::system(&root).authorize::<cap::Tickets>((&org).into()).ok())
}

async fn open_ticket(
    state: &AppState,
    charger_id: &str,
    since: DateTime<Utc>,
    faults: &[charger_fault::Model],
) -> Result<()> {
    let store = &state.store;
    let Some(org_id) = store.charger(charger_id).await?.and_then(|c| c.organisation_id) else {
        return Ok(());
    };
    let Some(auth) = platform(state, org_id).await? else {
        return Ok(());
    };
    let codes: Vec<&str> = faults.iter().map(|f| f.code.as_str()).collect();
    let body = faults
        .iter()
        .map(|f| {
            let info = f.info.as_deref().map(|i| format!(" ({i})")).unwrap_or_default();
            format!(
                "- EVSE {} connector {}: {} {}{info}, since {}",
                f.evse_id, f.connector_id, f.key, f.code, f.opened_at
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let fields = TicketFields {
        charger_id: Some(charger_id.to_owned()),
        title: Some(format!("{charger_id}: {}", codes.join(", "))),
        body: Some(format!(
            "Opened by voltgate: the charger reports a fault since {since}.\n{body}"
        )),
        status: None,
        fault_since: Some(since),
    };
    let t = store.create_ticket(&auth, None, fields).await?;
    tracing::info!(ticket = t.id, charger = charger_id, "ticket opened for a fault");
    Ok(())
}

async fn close(state: &AppState, t: &ticket::Model, now: DateTime<Utc>) -> Result<()> {
    let Some(auth) = platform(state, t.organisation_id).await? else {
        return Ok(());
    };
    let store = &state.store;
    let fields = TicketFields {
        status: Some(TicketStatus::Closed),
        ..Default::default()
    };
    let t = store.update_ticket(&auth, t.clone(), fields).await?;
    let comment = format!("The fault cleared by {now}; closed by voltgate.");
    store.add_comment(&auth, &t, None, comment).await?;
    tracing::info!(
        ticket = t.id,
        charger = t.charger_id.as_deref(),
        "ticket closed: the fault cleared"
    );
    Ok(())
}
