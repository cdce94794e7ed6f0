//! Batched writers of one kind side by side (group commit, meter values): each has a queue of
//! its own and work goes to them in turn. More than one only on PostgreSQL ([`super::writers`]);
//! a charger's writes cannot race each other, since it sends its next message only once the
//! last is answered, after its commit.
//!
//! Each writer runs on a thread of its own. As a task it waited behind every ready charger
//! connection after each statement: a boot storm's batch is a round trip to the database per
//! write, and one writer's wake-ups queued behind 19,000 connections made the whole storm
//! wait on them.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;

/// Handle on the writers; cheap to clone. They end with the last handle.
pub(crate) struct Writers<T> {
    queues: Arc<[mpsc::Sender<T>]>,
    next: Arc<AtomicUsize>,
}

impl<T> Clone for Writers<T> {
    fn clone(&self) -> Self {
        Self {
            queues: Arc::clone(&self.queues),
            next: Arc::clone(&self.next),
        }
    }
}

impl<T> std::fmt::Debug for Writers<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writers").field("writers", &self.queues.len()).finish()
    }
}

impl<T: Send + 'static> Writers<T> {
    /// Starts `n` writers (at least one), each running `writer` over a queue that holds
    /// `capacity` items, on a thread of its own named `name`.
    pub(crate) fn start<F>(name: &str, n: usize, capacity: usize, writer: impl Fn(mpsc::Receiver<T>) -> F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let queues = (0..n.max(1))
            .map(|_| {
                let (queue, items) = mpsc::channel(capacity);
                if let Err(e) = on_own_thread(name, writer(items)) {
                    // Its queue is closed with it: writes sent there fail, none hang.
                    tracing::error!(error = %e, writer = name, "writer thread not started");
                }
                queue
            })
            .collect();
        Self {
            queues,
            next: Arc::default(),
        }
    }

    /// Queues `item` for the next writer in turn; `Err` when the writers have stopped.
    pub(crate) async fn send(&self, item: T) -> Result<(), mpsc::error::SendError<T>> {
        let writer = self.next.fetch_add(1, Ordering::Relaxed) % self.queues.len();
        self.queues[writer].send(item).await
    }
}

/// Runs `future` to its end on a new thread named `name`, with a runtime of its own; `Err`
/// when the thread cannot start (a runtime that cannot start is logged on the thread).
pub(crate) fn on_own_thread(name: &str, future: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(
            move || match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime.block_on(future),
                Err(e) => tracing::error!(error = %e, "no runtime for a writer thread"),
            },
        )?;
    Ok(())
}
