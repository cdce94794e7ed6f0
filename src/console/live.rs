//! `GET /live`: one server-sent event stream per console tab, saying which chargers changed
//! (`event: chargers`, `data: {"chargers": ["CP-1", "CP-7"]}`, or `{"all": true}` after more
//! changes than one event names). Only chargers the session may read now are named: at every
//! batch the session is checked again and the ids go through the gate's scope, so a revoked
//! session or an ended grant ends the stream at the next change. Changes are gathered for a
//! moment and sent together, so a status storm is a few small events a second per tab; the
//! page then fetches its live parts again (`assets/console.js`).

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use super::session::Viewer;
use crate::access::Permission;
use crate::live::Change;
use crate::services;
use crate::state::AppState;

/// How long changes are gathered before one event names them.
const BATCH: Duration = Duration::from_millis(400);

/// Most chargers one event names; more, and it says "all".
const MAX_IDS: usize = 200;

/// A stream ends after this long and the browser opens a new one (EventSource reconnects by
/// itself), so no stream outlives its session by much even when nothing changes.
const LIFETIME: Duration = Duration::from_secs(600);

/// Live streams one node serves at most; more are refused (503) and the page keeps polling.
const MAX_STREAMS: usize = 1024;

/// `GET /live`
pub async fn stream(State(state): State<AppState>, viewer: Viewer) -> Response {
    if state.live.listeners() >= MAX_STREAMS {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many live streams").into_response();
    }
    let watch = Watch {
        changes: state.live.subscribe(),
        closed: Box::pin(state.live.closed()),
        ends: Instant::now() + LIFETIME,
        token: viewer.token,
        state,
    };
    let events = stream::unfold(watch, |mut w| async move {
        let event = w.next().await?;
        Some((Ok::<_, Infallible>(event), w))
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

/// One tab's stream.
struct Watch {
    state: AppState,
    token: String,
    changes: broadcast::Receiver<Change>,
    closed: std::pin::Pin<Box<tokio_util::sync::WaitForCancellationFutureOwned>>,
    ends: Instant,
}

/// What one batch gathered.
#[derive(Default)]
struct Batch {
    ids: BTreeSet<Arc<str>>,
    /// More than [`MAX_IDS`], or the stream fell behind and missed some.
    all: bool,
}

impl Batch {
    /// Takes one change; `false` when the node is gone.
    fn take(&mut self, change: Result<Change, RecvError>) -> bool {
        match change {
            Ok(change) if self.ids.len() < MAX_IDS => {
                self.ids.insert(change.charger_id);
            }
            Ok(_) | Err(RecvError::Lagged(_)) => self.all = true,
            Err(RecvError::Closed) => return false,
        }
        true
    }
}

impl Watch {
    /// The next event this tab may see; `None` ends the stream.
    async fn next(&mut self) -> Option<Event> {
        loop {
            let mut batch = Batch::default();
            let first = tokio::select! {
                change = self.changes.recv() => change,
                () = tokio::time::sleep_until(self.ends) => return None,
                () = &mut self.closed => return None,
            };
            if !batch.take(first) {
                return None;
            }
            let gathered = Instant::now() + BATCH;
            loop {
                tokio::select! {
                    change = self.changes.recv() => if !batch.take(change) { return None },
                    () = tokio::time::sleep_until(gathered) => break,
                }
            }
            if let Some(event) = self.visible(batch).await? {
                return Some(event);
            }
        }
    }

    /// The batch as this session may see it now: `Some(None)` when it may see none of it,
    /// `None` when the session is over.
    async fn visible(&self, batch: Batch) -> Option<Option<Event>> {
        let session = services::auth::authenticate(&self.state, &self.token).await.ok()?;
        if !session.full {
            return None;
        }
        let Ok(scope) = session.principal.scope(Permission::ChargersRead) else {
            return Some(None);
        };
        let data = if batch.all {
            serde_json::json!({ "all": true })
        } else {
            let ids = batch.ids.iter().map(|id| id.to_string()).collect();
            let seen = match self.state.store.charger_ids_among(&scope, ids).await {
                Ok(seen) => seen,
                // The database is away for a moment: say nothing rather than end the stream.
                Err(_) => return Some(None),
            };
            if seen.is_empty() {
                return Some(None);
            }
            serde_json::json!({ "chargers": seen })
        };
        Some(Some(Event::default().event("chargers").data(data.to_string())))
    }
}
