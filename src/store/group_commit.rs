//! Group commit: small writes from many chargers share one database transaction, so a boot
//! storm costs one commit (one fsync) per batch instead of one per message, and every charger
//! is still answered only after its write is committed.
//!
//! No artificial delay: the writer takes what is queued while the previous commit runs. A
//! batch's writes first run side by side in one transaction; only if one of them fails does
//! the batch run again with a savepoint per write, so one failing write fails alone. (A
//! savepoint per write, always, tripled the statements of a boot storm: on SQLite each is a
//! hand-off to the connection's thread.)

use futures_util::future::BoxFuture;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use super::writers::Writers;

/// Writes per transaction at most.
const MAX_BATCH: usize = 512;

/// One write, run against the batch's transaction. It may run twice (the first run rolled
/// back), so it clones what its future takes.
pub(crate) type Write = Box<dyn for<'t> Fn(&'t DatabaseTransaction) -> BoxFuture<'t, Result<(), DbErr>> + Send + Sync>;

struct Job {
    write: Write,
    done: oneshot::Sender<Result<(), DbErr>>,
}

/// Handle on the group-commit tasks; they end with the last handle.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    writers: Writers<Job>,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupCommit")
    }
}

impl GroupCommit {
    /// Starts `writers` writers over `db`, each committing its own batches. More than one
    /// only on PostgreSQL: a batch there is a network round trip per write, which one writer
    /// made a boot storm wait on, and row locks let transactions of different chargers commit
    /// side by side.
    pub(crate) fn start(db: DatabaseConnection, stats: crate::metrics::WriteStats, writers: usize) -> Self {
        Self {
            writers: Writers::start("voltgate-group-commit", writers, 8192, |queue| {
                write(db.clone(), queue, stats.clone())
            }),
        }
    }

    /// Runs `write` in the next batch; returns once that batch is committed.
    pub(crate) async fn run(&self, write: Write) -> Result<(), DbErr> {
        let (done, committed) = oneshot::channel();
        self.writers
            .send(Job { write, done })
            .await
            .map_err(|_| DbErr::Custom("group-commit writer stopped".into()))?;
        committed
            .await
            .map_err(|_| DbErr::Custom("group-commit writer stopped".into()))?
    }
}

/// One writer: batches what is queued while its previous commit runs.
async fn write(db: DatabaseConnection, mut queue: mpsc::Receiver<Job>, stats: crate::metrics::WriteStats) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let (size, started) = (batch.len(), std::time::Instant::now());
        run_batch(&db, batch).await;
        stats.observe("group_commit", size, started.elapsed());
    }
}

/// Why a batch run side by side did not commit.
enum Together {
    /// One of the writes failed: run them apart.
    WriteFailed,
    /// Beginning or committing failed: every write fails with it.
    Failed(DbErr),
}

async fn run_batch(db: &DatabaseConnection, batch: Vec<Job>) {
    let together = async {
        let txn = super::begin_write(db).await.map_err(Together::Failed)?;
        for job in &batch {
            // Dropping the transaction rolls it back.
            (job.write)(&txn).await.map_err(|_| Together::WriteFailed)?;
        }
        txn.commit().await.map_err(Together::Failed)
    };
    match together.await {
        Ok(()) => {
            for job in batch {
                let _ = job.done.send(Ok(()));
            }
        }
        Err(Together::Failed(e)) => {
            tracing::error!(error = %e, "group commit failed");
            fail_all(batch.into_iter().map(|job| job.done), &e);
        }
        Err(Together::WriteFailed) => run_apart(db, batch).await,
    }
}

/// Tells every waiter its write failed with the batch, because of `e`.
fn fail_all(waiters: impl Iterator<Item = oneshot::Sender<Result<(), DbErr>>>, e: &DbErr) {
    for done in waiters {
        let _ = done.send(Err(DbErr::Custom(e.to_string())));
    }
}

/// The batch again, each write in a savepoint of its own.
async fn run_apart(db: &DatabaseConnection, batch: Vec<Job>) {
    let txn = match super::begin_write(db).await {
        Ok(txn) => txn,
        Err(e) => return fail_all(batch.into_iter().map(|job| job.done), &e),
    };
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let result = match txn.begin().await {
            Ok(savepoint) => match (job.write)(&savepoint).await {
                Ok(()) => savepoint.commit().await,
                Err(e) => {
                    let _ = savepoint.rollback().await;
                    Err(e)
                }
            },
            Err(e) => Err(e),
        };
        results.push((job.done, result));
    }
    match txn.commit().await {
        Ok(()) => {
            for (done, result) in results {
                let _ = done.send(result);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "group commit failed");
            fail_all(results.into_iter().map(|(done, _)| done), &e);
        }
    }
}
