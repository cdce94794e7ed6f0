//! Local authorisation lists built from the organisation tree (1.6 Local Auth List
//! Management, 2.0.1 D01-D02), and blocked cards stopped offline (ClearCache).
//!
//! The store reports every write that can change who may charge where ([`crate::store::Touch`]).
//! One worker per node takes them: [`reconcile`] brings each place's stored list in line with
//! what Authorize answers there (the same [`crate::store::Place::decide`]) and marks the
//! chargers concerned; [`sync`] sends each marked charger connected to this node its changes
//! (and, on every new connection, checks what it holds). Chargers on another node are that
//! node's worker's: the marks are in the shared database.

mod messages;
mod reconcile;
mod sync;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::Error;
use crate::access::{Principal, cap};
use crate::cluster::Location;
use crate::services::local_lists::LocalListOut;
use crate::services::{self, Audit, Target};
use crate::state::AppState;
use crate::store::Touch;

/// How often pending chargers and new connections are looked for.
const TICK: Duration = Duration::from_secs(2);
/// How long touches are gathered before they are worked off together.
const GATHER: Duration = Duration::from_millis(150);
/// Syncs in flight at once on one node.
const PARALLEL: usize = 32;
/// How often tokens that expired by themselves are looked for (and removals every charger
/// has been sent are forgotten).
const EXPIRY_EVERY: Duration = Duration::from_secs(30);

/// Starts this node's local-list worker, until `shutdown`.
pub fn spawn(state: AppState, shutdown: CancellationToken) {
    let Some(touches) = state.store.local_list_touches() else {
        return;
    };
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = run(state, touches) => {}
        }
    });
}

async fn run(state: AppState, mut touches: mpsc::UnboundedReceiver<Touch>) {
    // What happened while no worker ran (a restart, the CLI) is caught up first.
    match state.store.root_organisations().await {
        Ok(roots) => {
            for root in roots {
                if let Err(e) = reconcile::tree(&state, root.id, true).await {
                    tracing::warn!(error = %e, root = root.id, "local lists not recomputed");
                }
            }
        }
        Err(e) => tracing::warn!(error = %e, "local lists not recomputed"),
    }
    let limit = Arc::new(Semaphore::new(PARALLEL));
    let mut checked: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut tick = tokio::time::interval(TICK);
    let mut expired_until = Utc::now();
    let mut expiry = tokio::time::interval(EXPIRY_EVERY);
    loop {
        tokio::select! {
            touch = touches.recv() => {
                let Some(first) = touch else { return };
                tokio::time::sleep(GATHER).await;
                let mut batch = vec![first];
                while let Ok(t) = touches.try_recv() {
                    batch.push(t);
                }
                work_off(&state, batch).await;
            }
            _ = expiry.tick() => {
                let now = Utc::now();
                match state.store.tokens_expiring(expired_until, now).await {
                    Ok(tokens) => {
                        expired_until = now;
                        let batch = tokens
                            .into_iter()
                            .map(|t| Touch::Token { root_id: t.root_id, before: None, after: Some(Box::new(t)) })
                            .collect();
                        work_off(&state, batch).await;
                    }
                    Err(e) => tracing::warn!(error = %e, "expired tokens not read"),
                }
                if let Err(e) = state.store.prune_local_list_removals().await {
                    tracing::warn!(error = %e, "local-list removals not pruned");
                }
                continue;
            }
            _ = tick.tick() => {}
        }
        sync_due(&state, &limit, &mut checked).await;
    }
}

/// Works off a batch of touches: the tokens' changes of each tree together, then each tree
/// touched as a whole once.
async fn work_off(state: &AppState, batch: Vec<Touch>) {
    let mut trees: HashMap<i32, bool> = HashMap::new();
    let mut tokens: HashMap<i32, Vec<reconcile::TokenChange<'_>>> = HashMap::new();
    for t in &batch {
        match t {
            Touch::Tree { root_id, answers } => *trees.entry(*root_id).or_default() |= *answers,
            Touch::Token { root_id, before, after } => tokens
                .entry(*root_id)
                .or_default()
                .push((before.as_deref(), after.as_deref())),
        }
    }
    // Even where a tree pass follows: it cannot see what a token was before (the cache clears).
    for (root, changes) in tokens {
        if let Err(e) = reconcile::tokens(state, root, &changes).await {
            tracing::warn!(error = %e, root, "tokens' local-list entries not updated");
        }
    }
    for (root, answers) in trees {
        if let Err(e) = reconcile::tree(state, root, answers).await {
            tracing::warn!(error = %e, root, "local lists not recomputed");
        }
    }
}

/// Starts syncs for chargers connected here that are marked, or newly connected.
async fn sync_due(state: &AppState, limit: &Arc<Semaphore>, checked: &mut HashMap<String, DateTime<Utc>>) {
    let connected: HashMap<String, _> = state.gateway.registry().connected().into_iter().collect();
    checked.retain(|id, _| connected.contains_key(id));
    let fresh: Vec<String> = connected
        .iter()
        .filter(|(id, info)| checked.get(*id) != Some(&info.connected_at))
        .map(|(id, _)| id.clone())
        .collect();
    let mut due: HashMap<String, bool> = HashMap::new();
    match state.store.charger_local_lists(&fresh).await {
        Ok(rows) => due.extend(rows.into_keys().map(|id| (id, true))),
        Err(e) => tracing::warn!(error = %e, "local lists of new connections not read"),
    }
    match state.store.pending_local_lists().await {
        Ok(rows) => {
            for r in rows.into_iter().filter(|r| connected.contains_key(&r.charger_id)) {
                due.entry(r.charger_id).or_insert(false);
            }
        }
        Err(e) => tracing::warn!(error = %e, "pending local lists not read"),
    }
    // A new connection of a charger that keeps a list but has no state yet is found by its
    // place's tree pass; one with a state is checked here.
    for id in fresh {
        if let Some(info) = connected.get(&id) {
            checked.insert(id, info.connected_at);
        }
    }
    for (id, probe) in due {
        // A charger whose sync is still running is left to it.
        let Some(slot) = state.commands.acquire_owned(&id, "local_list") else {
            continue;
        };
        let Ok(permit) = Arc::clone(limit).acquire_owned().await else {
            return;
        };
        let state = state.clone();
        tokio::spawn(async move {
            let (_slot, _permit) = (slot, permit);
            if let Err(e) = sync::charger(&state, &id, probe).await {
                tracing::warn!(charger = %id, error = %e, "local list not synced");
            }
        });
    }
}

/// `POST /chargers/{id}/local-list`: the whole list sent again now (remote maintenance,
/// audited). A charger on another node gets it from that node's worker within seconds.
pub async fn force(state: &AppState, p: &Principal, charger_id: &str) -> Result<LocalListOut, Error> {
    let action = "command.local_list";
    let (c, org) = services::chargers::visible_charger(state, p, charger_id, action).await?;
    let target = Target::new(format!("charger:{charger_id}"))
        .charger(charger_id)
        .org(org.id);
    services::gate::<cap::RemoteMaintenance>(state, p, &org, action, target.clone()).await?;
    state
        .store
        .mark_charger_local_lists(&[charger_id.to_owned()], true, false)
        .await?;
    let result = match state.fleet.locate(charger_id) {
        Location::Here(_) => match state.commands.acquire(charger_id, "local_list") {
            Some(_slot) => sync::charger(state, charger_id, true).await,
            None => Err(Error::Busy("local_list")),
        },
        Location::Elsewhere { .. } => Ok(None),
        Location::Nowhere => Err(Error::Offline),
    };
    let row = Audit::new(p, action, target);
    match &result {
        Ok(Some(r)) => {
            let detail = format!("{} (list version {}, {} entries)", r.state, r.list_version, r.entries);
            row.detail(detail).ok(state).await;
        }
        Ok(None) => row.detail("queued for the node the charger is on").ok(state).await,
        Err(e) => row.detail(e.to_string()).outcome(state, e.outcome()).await,
    }
    result?;
    Ok(services::local_lists::shown(state, &c).await?)
}
