//! Alerts (issue 22): webhooks told what happens to the chargers of their subtree, signed and
//! retried, never in the way of a charger's answer. Two loops per node, both over the shared
//! database: [`watch`] turns what the store holds (who is offline, open faults, the timeline,
//! campaigns) into deliveries, at most one per event and webhook however many nodes watch;
//! [`deliver`] sends what is due, each delivery claimed by one sender at a time; [`tickets`]
//! opens maintenance tickets for faults that last (`auto_tickets`) and closes them.
//!
//! It sits beside the services: it reads the store and the fleet and answers to no request.

mod deliver;
mod tickets;
mod watch;

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

pub use deliver::signature;

/// How often each loop looks.
const TICK: Duration = Duration::from_secs(1);

/// Starts this node's watcher and sender, until `shutdown`.
pub fn spawn(state: AppState, shutdown: CancellationToken) -> anyhow::Result<JoinHandle<()>> {
    let client = deliver::client()?;
    Ok(tokio::spawn(async move {
        let mut watcher = watch::Watcher::new(state.clone());
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = watcher.round().await {
                tracing::warn!(error = %e, "alerts not looked for");
            }
            if let Err(e) = tickets::round(&state).await {
                tracing::warn!(error = %e, "tickets from faults not looked for");
            }
            if let Err(e) = deliver::round(&state, &client).await {
                tracing::warn!(error = %e, "webhook deliveries not sent");
            }
        }
    }))
}
