//! What a node does by itself on a clock: audit the memberships whose window has ended, prune
//! the message log, and close the audit rows of commands a stopped node left `pending`. All
//! are safe to run on every node of a cluster at once (the expiry claim is a conditional
//! update; a prune deletes what any node would; a command is only closed once no node can
//! still be waiting for its answer).

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::store::AuditEntry;

/// How often ended memberships are looked for: their roles stop at once regardless (the gate
/// reads the clock); this is only how soon the audit log says so.
const EXPIRY_EVERY: Duration = Duration::from_secs(30);
/// How often the message log is pruned (and once at start).
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Starts the clock-driven work until `shutdown`.
pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut expiry = tokio::time::interval(EXPIRY_EVERY);
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = expiry.tick() => {
                    audit_ended_memberships(&state).await;
                    interrupt_leftovers(&state).await;
                }
                _ = prune.tick() => prune_message_log(&state).await,
            }
        }
    })
}

/// Writes one `user.membership.expired` row per membership whose window has ended.
pub async fn audit_ended_memberships(state: &AppState) {
    let ended = match state.store.claim_ended_memberships(500).await {
        Ok(ended) => ended,
        Err(e) => {
            tracing::warn!(error = %e, "ended memberships not read");
            return;
        }
    };
    for m in ended {
        let entry = AuditEntry {
            user_id: None,
            action: "user.membership.expired".into(),
            organisation_id: Some(m.organisation_id),
            resource: Some(format!("user:{}", m.user_id)),
            request: Some(serde_json::json!({"role": m.role, "valid_until": m.valid_until})),
            outcome: "ok".into(),
            ..Default::default()
        };
        if let Err(e) = state.store.record_audit(entry).await {
            tracing::warn!(error = %e, membership = m.id, "membership expiry not audited");
        }
    }
}

/// Marks `interrupted` the commands still `pending` that no node can be waiting for any more
/// (older than the call timeout and a minute).
pub async fn interrupt_leftovers(state: &AppState) {
    let waited = i64::try_from(state.config.ocpp.call_timeout_s).unwrap_or(i64::MAX / 2_000) + 60;
    let cutoff = chrono::Utc::now() - chrono::Duration::seconds(waited);
    match state.store.interrupt_pending_commands(cutoff).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            commands = n,
            "commands left pending by a stopped node marked interrupted"
        ),
        Err(e) => tracing::warn!(error = %e, "pending commands not checked"),
    }
}

async fn prune_message_log(state: &AppState) {
    if !state.config.ocpp.message_log {
        return;
    }
    match crate::inspector::prune(&state.store, &state.config.ocpp).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(exchanges = n, "message log pruned"),
        Err(e) => tracing::warn!(error = %e, "message log not pruned"),
    }
}
