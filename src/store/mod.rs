//! Queries on top of `entity` that the services share. Nothing here knows about OCPP frames
//! or HTTP; callers hand in plain data and get models back.

mod accounts;
mod audit;
mod authorization;
mod campaigns;
mod charger_certificates;
mod charger_passwords;
mod chargers;
mod events;
mod group_commit;
mod message_log;
mod organisations;
pub use organisations::{Move, OrganisationChanges};
mod access_rules;
mod drivers;
mod groups;
mod id_tokens;
mod local_lists;
mod scope;
mod sites;
mod tariffs;
mod tickets;
mod transactions;
mod users;
mod variables;
mod webhooks;
mod writers;
pub(crate) use writers::on_own_thread;

pub use accounts::{InvitationPurpose, InvitationState, SCOPE_ENROL_2FA, SCOPE_FULL};
pub use audit::{AuditEntry, AuditFilter};
pub use authorization::{ListedToken, Place, SitePlace, group_token};
pub use campaigns::{ChargerFilter, NewCampaign, StepCounts, StepOutcome, finished_and_failed};
pub use chargers::{BootInfo, ChargerChanges, ChargerTally, ConnectorStatus, NewChargerFields};
pub use events::{EventFilter, FaultChange, FaultPlace, NewEvent, Progress};
pub use id_tokens::TokenFields;
pub use local_lists::{Touch, keeps_list};
pub use message_log::{MessageFilter, NewMessage, StoredMessage};
pub use organisations::{ancestors_of, root_of};
pub use scope::Page;
pub use sites::SiteFields;
pub use tickets::TicketFields;
pub use transactions::{
    MeterWriter, NewMeterValue, REFUSED_AT_START, TransactionFilter, TransactionStart, TransactionUpdate,
};
pub use users::UserChanges;
pub use variables::{ReportedVariable, VariableFilter};
pub use webhooks::{Attempt, NewDelivery, NewWebhook};

use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    TransactionTrait,
};

use crate::config::DatabaseConfig;

/// A store-layer failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// A write was attempted without the matching gate proof.
    #[error(transparent)]
    Access(#[from] crate::access::AccessError),
}

/// Whether `e` says the database cannot serve now (down, restarting, every connection busy
/// past `database.acquire_timeout_s`, a statement past `database.statement_timeout_s`, its disk
/// full) rather than that a statement is wrong: worth a retry.
pub fn unavailable(e: &DbErr) -> bool {
    use sea_orm::RuntimeErr::SqlxError;
    use sea_orm::sqlx;
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(SqlxError(s)) | DbErr::Query(SqlxError(s)) => {
            matches!(
                s,
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed
            ) || s
                .as_database_error()
                .and_then(|d| d.code())
                // PostgreSQL shutting down or starting up (admin_shutdown, cannot_connect_now),
                // a statement cancelled by `statement_timeout` (query_canceled), a full disk
                // (PostgreSQL disk_full, SQLITE_FULL).
                .is_some_and(|c| matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "57014" | "53100" | "13"))
        }
        _ => false,
    }
}

impl Store {
    /// Whether the database answers a trivial query within a second (`/healthz`).
    pub async fn reachable(&self) -> bool {
        let ping = self.db.execute_unprepared("SELECT 1");
        matches!(tokio::time::timeout(Duration::from_secs(1), ping).await, Ok(Ok(_)))
    }
}

/// Maps a unique-constraint violation to 409 with `message`; other errors pass through.
pub(crate) fn conflict_on_unique(err: DbErr, message: String) -> Error {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Error::Conflict(message),
        _ => Error::Db(err),
    }
}

/// How long a SQLite writer waits for the write lock before `SQLITE_BUSY`. Every write either
/// is one autocommit statement or goes through [`begin_write`], which takes the lock at its
/// first statement; both wait here, so writers queue instead of failing. A write batch holds
/// the lock for milliseconds, so reaching this means the disk has stalled.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Prepared statements kept per SQLite connection (see [`connect_sqlite`]); with 4 the same
/// soak stayed flat.
const SQLITE_STATEMENT_CACHE: usize = 4;

/// How many batched writers of a kind (group commit, meter values) commit side by side: on
/// PostgreSQL a quarter of the pool, at most four, the rest serving reads and the API; on
/// SQLite one, as it has one write lock.
fn writers(db: &DatabaseConnection, config: &DatabaseConfig) -> usize {
    match db.get_database_backend() {
        DbBackend::Postgres => (config.max_connections as usize / 4).clamp(1, 4),
        _ => 1,
    }
}

/// [`Store::begin_write`] on a bare connection (the batched writers hold one).
pub(crate) async fn begin_write(db: &DatabaseConnection) -> std::result::Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        txn.execute_unprepared("UPDATE seaql_migrations SET version = version WHERE 0")
            .await?;
    }
    Ok(txn)
}

/// The PostgreSQL pool's options, with a server-side statement timeout unless `None`.
fn connect_options(config: &DatabaseConfig, statement_timeout_s: Option<u64>) -> ConnectOptions {
    let mut options = ConnectOptions::new(config.url.clone());
    options
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(config.acquire_timeout_s))
        .connect_timeout(Duration::from_secs(config.acquire_timeout_s))
        .sqlx_logging(false);
    if let Some(s) = statement_timeout_s {
        options.map_sqlx_postgres_opts(move |o| o.options([("statement_timeout", format!("{s}s"))]));
    }
    options
}

/// The SQLite pool, built here rather than by sea-orm for its hand-out check. When a write
/// fails with `SQLITE_FULL` or an I/O error, SQLite may end the transaction itself; sqlx's
/// ROLLBACK then fails and the connection still counts itself inside a transaction, so its
/// next one would be a savepoint whose rollback keeps the write lock, and every other writer
/// would wait on it for ever (seen with a full disk). Such a connection is closed instead of
/// being handed out again.
///
/// `cache_kib` bounds each connection's page cache (SQLite's default is 2 MiB each).
async fn connect_sqlite(
    config: &DatabaseConfig,
    synchronous: sea_orm::sqlx::sqlite::SqliteSynchronous,
    cache_kib: Option<u32>,
) -> std::result::Result<DatabaseConnection, DbErr> {
    use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    let sqlx_error = |e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e));
    let mut options = config
        .url
        .parse::<SqliteConnectOptions>()
        .map_err(sqlx_error)?
        .synchronous(synchronous)
        .disable_statement_logging()
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        // Batch inserts of every row count (meter values, the message log's up to 2,000 rows)
        // each prepare a large statement of their own; 100 cached per connection (sqlx's
        // default) grew the server by ~200 MiB in an hour's soak at 10,000 chargers.
        .statement_cache_capacity(SQLITE_STATEMENT_CACHE);
    if let Some(kib) = cache_kib {
        options = options.pragma("cache_size", format!("-{kib}"));
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(Duration::from_secs(config.acquire_timeout_s))
        // No ping as a connection is handed out: a file has no far end to lose, and the ping
        // is a round trip to the connection's thread before every query (with the ping on
        // release, 7 % of a boot storm's CPU).
        .test_before_acquire(false)
        // Checked as an idle connection is handed out: by then the rollback a dropped
        // transaction queued has run (the pool pings each connection as it comes back).
        .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
        .connect_with(options)
        .await
        .map_err(sqlx_error)?;
    Ok(sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(pool))
}

/// The message log's own SQLite file for a SQLite database URL: `voltgate.db` ->
/// `voltgate.messages.db` beside it, with the same options; `None` for PostgreSQL and for
/// in-memory databases (the log stays in the database itself).
pub fn message_log_url(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let (path, query) = rest.split_once('?').map_or((rest, None), |(p, q)| (p, Some(q)));
    if path.is_empty() || path == ":memory:" || query.is_some_and(|q| q.contains("mode=memory")) {
        return None;
    }
    let file = match path.rsplit_once('.') {
        Some((stem, ext)) if !ext.contains('/') => format!("{stem}.messages.{ext}"),
        _ => format!("{path}.messages"),
    };
    Some(match query {
        Some(q) => format!("sqlite://{file}?{q}"),
        None => format!("sqlite://{file}"),
    })
}

async fn migrate(db: &DatabaseConnection) -> Result<usize> {
    use migration::MigratorTrait;
    let pending = migration::Migrator::get_pending_migrations(db).await?.len();
    migration::Migrator::up(db, None).await?;
    Ok(pending)
}

/// Shorthand for store results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Handle on the database; cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct Store {
    /// What it was opened with (migrations open a connection of their own).
    config: DatabaseConfig,
    db: DatabaseConnection,
    /// Where the message log lives: on SQLite a file of its own beside the database
    /// ([`message_log_url`]), so its writer never holds the write lock chargers' writes wait
    /// for; on PostgreSQL the same database.
    log: DatabaseConnection,
    /// Batches the small writes chargers cause into shared transactions.
    group: group_commit::GroupCommit,
    /// Reads handshakes' charger rows many to a query.
    reads: chargers::ChargerReads,
    /// Commit times and batch sizes of the batched writers, for `/metrics`.
    writes: crate::metrics::WriteStats,
    /// Where writes that change local lists are reported.
    touches: local_lists::Touches,
}

impl Store {
    /// Connects to `config.url` (SQLite or PostgreSQL) and applies pending migrations.
    pub async fn open(config: &DatabaseConfig) -> Result<Self> {
        let store = Self::connect(config).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(config: &DatabaseConfig) -> Result<Self> {
        let db = if config.url.starts_with("sqlite:") {
            let db = connect_sqlite(config, sea_orm::sqlx::sqlite::SqliteSynchronous::Full, None).await?;
            // WAL lets readers proceed while a writer commits; the mode sticks to the file.
            db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
            db
        } else {
            let statement_timeout = Some(config.statement_timeout_s).filter(|s| *s > 0);
            Database::connect(connect_options(config, statement_timeout)).await?
        };
        let log = match message_log_url(&config.url) {
            Some(url) => message_log::open_sqlite(config, url).await?,
            None => db.clone(),
        };
        let writes = crate::metrics::WriteStats::default();
        let group = group_commit::GroupCommit::start(db.clone(), writes.clone(), writers(&db, config));
        let reads = chargers::ChargerReads::start(db.clone());
        Ok(Self {
            config: config.clone(),
            db,
            log,
            group,
            reads,
            writes,
            touches: local_lists::Touches::default(),
        })
    }

    /// How many batched writers of a kind commit side by side.
    pub(crate) fn writers(&self) -> usize {
        writers(&self.db, &self.config)
    }

    /// A transaction that writes. On SQLite it takes the write lock at its first statement (a
    /// no-op UPDATE), so what it reads cannot be overtaken by another writer's commit
    /// (SQLITE_BUSY_SNAPSHOT, which no busy timeout retries); waiting for the lock is bounded
    /// by the busy timeout. PostgreSQL needs nothing of the kind.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction> {
        Ok(begin_write(&self.db).await?)
    }

    /// Applies pending migrations; returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        if self.db.get_database_backend() != DbBackend::Postgres || self.config.statement_timeout_s == 0 {
            return migrate(&self.db).await;
        }
        // A migration may rewrite a large table: it runs on a connection of its own that the
        // statement timeout does not cut short.
        let unbounded = Database::connect(connect_options(&self.config, None)).await?;
        let applied = migrate(&unbounded).await;
        unbounded.close().await?;
        applied
    }

    /// Commit times and batch sizes of the batched writers.
    pub fn write_stats(&self) -> &crate::metrics::WriteStats {
        &self.writes
    }

    /// The underlying connection, for code that composes its own queries.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }
}

#[cfg(test)]
mod tests;
