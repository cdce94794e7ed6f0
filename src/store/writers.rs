//! Batched writers of one kind side by side (group commit, meter values): each has a queue of
//! its own and work goes to them in turn. More than one only on PostgreSQL ([`super::writers`]);
//! a charger's writes cannot race each other, since it sends its next message only once the
//! last is answered, after its commit.

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
    /// Starts `n` writers (at least one), each a task running `writer` over a queue that holds
    /// `capacity` items.
    pub(crate) fn start<F>(n: usize, capacity: usize, writer: impl Fn(mpsc::Receiver<T>) -> F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let queues = (0..n.max(1))
            .map(|_| {
                let (queue, items) = mpsc::channel(capacity);
                tokio::spawn(writer(items));
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
