//! The message log: OCPP exchanges per charger, written in batches by the inspector's writer,
//! read newest first, pruned by age and per charger.

use chrono::{DateTime, Utc};
use entity::message_log;
use entity::values::{FrameKind, MessageDirection};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    RuntimeErr, sqlx,
};

use super::scope::Page;
use super::{Result, Store};
use crate::access::{Authorized, cap};

/// What a message-log read is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    /// Exchanges that started before this instant.
    pub before: Option<DateTime<Utc>>,
    pub action: Option<String>,
    pub direction: Option<MessageDirection>,
}

/// One exchange to store, secrets already replaced.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub charger_id: String,
    pub at: DateTime<Utc>,
    pub direction: MessageDirection,
    pub action: Option<String>,
    pub message_id: Option<String>,
    pub request: String,
    pub request_size: i32,
    pub response_type: Option<FrameKind>,
    pub response: Option<String>,
    pub response_size: Option<i32>,
    pub responded_at: Option<DateTime<Utc>>,
}

/// The table in the message log's own SQLite file, as the migration makes it in the main
/// database (which PostgreSQL keeps using), but for the id: a plain rowid, which grows with
/// time as long as the newest row is never deleted (pruning deletes the oldest), and needs no
/// `sqlite_sequence` update per row as AUTOINCREMENT does.
const SQLITE_SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS message_log (id integer NOT NULL PRIMARY KEY, charger_id varchar NOT NULL, \
     at timestamp_with_timezone_text NOT NULL, direction varchar NOT NULL, action varchar NULL, message_id varchar NULL, \
     request text NOT NULL, request_size integer NOT NULL, response_type varchar NULL, response text NULL, \
     response_size integer NULL, responded_at timestamp_with_timezone_text NULL)",
    "CREATE INDEX IF NOT EXISTS idx_message_log_charger ON message_log (charger_id, id)",
];

/// Connections to the log's own file: one writer, and readers beside it (WAL).
const SQLITE_CONNECTIONS: u32 = 3;

/// Opens (creating it when new) the message log's own SQLite file at `url`. The log is a
/// diagnostic record nobody was promised, so its commits skip the fsync a power cut would
/// need (`synchronous = NORMAL` in WAL: the last moments of the log may be lost, never the
/// file); every charger-facing write stays in the main database with its durability.
pub(super) async fn open_sqlite(
    config: &crate::config::DatabaseConfig,
    url: String,
) -> Result<sea_orm::DatabaseConnection> {
    let log_config = crate::config::DatabaseConfig {
        url,
        max_connections: SQLITE_CONNECTIONS,
        ..config.clone()
    };
    let db = super::connect_sqlite(&log_config, sqlx::sqlite::SqliteSynchronous::Normal).await?;
    db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    for statement in SQLITE_SCHEMA {
        db.execute_unprepared(statement).await?;
    }
    Ok(db)
}

/// The columns an insert names, in bind order.
const COLUMNS: &str = "charger_id, at, direction, action, message_id, request, request_size, response_type, \
                       response, response_size, responded_at";
/// Rows per SQLite statement: eleven binders each stays far below its 32,766.
const SQLITE_CHUNK: usize = 500;

impl Store {
    /// Appends exchanges. This is the busiest insert voltgate has (one row per OCPP exchange
    /// of every charger), so it skips the query builder: one prepared multi-row statement per
    /// chunk on SQLite, one `UNNEST` of column arrays on PostgreSQL.
    pub async fn record_messages(&self, rows: Vec<NewMessage>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        match self.log.get_database_backend() {
            DbBackend::Postgres => self.record_messages_postgres(rows).await,
            _ => self.record_messages_sqlite(rows).await,
        }
    }

    async fn record_messages_sqlite(&self, rows: Vec<NewMessage>) -> Result<()> {
        let pool = self.log.get_sqlite_connection_pool();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<NewMessage> = rows.by_ref().take(SQLITE_CHUNK).collect();
            let mut sql = format!("INSERT INTO message_log ({COLUMNS}) VALUES ");
            for i in 0..chunk.len() {
                sql.push_str(if i == 0 { "" } else { "," });
                sql.push_str("(?,?,?,?,?,?,?,?,?,?,?)");
            }
            let mut query = sqlx::query(&sql);
            for m in chunk {
                query = query
                    .bind(m.charger_id)
                    .bind(m.at)
                    .bind(m.direction.to_value())
                    .bind(m.action)
                    .bind(m.message_id)
                    .bind(m.request)
                    .bind(m.request_size)
                    .bind(m.response_type.map(|t| t.to_value()))
                    .bind(m.response)
                    .bind(m.response_size)
                    .bind(m.responded_at);
            }
            query.execute(pool).await.map_err(sqlx_error)?;
        }
        Ok(())
    }

    async fn record_messages_postgres(&self, rows: Vec<NewMessage>) -> Result<()> {
        let n = rows.len();
        let (mut charger, mut at, mut direction, mut action, mut message_id, mut request) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut request_size, mut response_type, mut response, mut response_size, mut responded_at) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for m in rows {
            charger.push(m.charger_id);
            at.push(m.at);
            direction.push(m.direction.to_value());
            action.push(m.action);
            message_id.push(m.message_id);
            request.push(m.request);
            request_size.push(m.request_size);
            response_type.push(m.response_type.map(|t| t.to_value()));
            response.push(m.response);
            response_size.push(m.response_size);
            responded_at.push(m.responded_at);
        }
        let sql = format!(
            "INSERT INTO message_log ({COLUMNS}) SELECT * FROM UNNEST($1::varchar[], $2::timestamptz[], \
             $3::varchar[], $4::varchar[], $5::varchar[], $6::text[], $7::int4[], $8::varchar[], $9::text[], \
             $10::int4[], $11::timestamptz[])"
        );
        sqlx::query(&sql)
            .bind(charger)
            .bind(at)
            .bind(direction)
            .bind(action)
            .bind(message_id)
            .bind(request)
            .bind(request_size)
            .bind(response_type)
            .bind(response)
            .bind(response_size)
            .bind(responded_at)
            .execute(self.log.get_postgres_connection_pool())
            .await
            .map_err(sqlx_error)?;
        Ok(())
    }

    /// A charger's exchanges, newest first; reading needs the message-log proof for the
    /// charger's organisation.
    pub async fn messages(
        &self,
        _proof: &Authorized<cap::MessagesRead>,
        charger_id: &str,
        filter: &MessageFilter,
        page: Page,
    ) -> Result<Vec<message_log::Model>> {
        let mut query = message_log::Entity::find().filter(message_log::Column::ChargerId.eq(charger_id));
        if let Some(before) = filter.before {
            query = query.filter(message_log::Column::At.lt(before));
        }
        if let Some(action) = &filter.action {
            query = query.filter(message_log::Column::Action.eq(action.as_str()));
        }
        if let Some(direction) = filter.direction {
            query = query.filter(message_log::Column::Direction.eq(direction));
        }
        Ok(query
            .order_by_desc(message_log::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.log)
            .await?)
    }

    /// Deletes exchanges older than `older_than`, and beyond the newest `keep_per_charger` of
    /// each charger; returns how many went.
    pub async fn prune_messages(&self, older_than: Option<DateTime<Utc>>, keep_per_charger: u64) -> Result<u64> {
        let mut deleted = 0;
        if let Some(cutoff) = older_than {
            // Ids grow with time, so the first row young enough bounds what goes; finding it
            // walks the primary key past exactly the rows to delete, and `at` needs no index
            // (one less to update on the busiest insert).
            let first_kept: Option<i64> = message_log::Entity::find()
                .select_only()
                .column(message_log::Column::Id)
                .filter(message_log::Column::At.gte(cutoff))
                .order_by_asc(message_log::Column::Id)
                .limit(1)
                .into_tuple()
                .one(&self.log)
                .await?;
            let mut old = message_log::Entity::delete_many();
            if let Some(id) = first_kept {
                old = old.filter(message_log::Column::Id.lt(id));
            }
            deleted += old.exec(&self.log).await?.rows_affected;
        }
        let over: Vec<String> = message_log::Entity::find()
            .select_only()
            .column(message_log::Column::ChargerId)
            .group_by(message_log::Column::ChargerId)
            .having(Expr::expr(Expr::col(message_log::Column::Id).count()).gt(keep_per_charger))
            .into_tuple()
            .all(&self.log)
            .await?;
        for charger_id in over {
            // The id of the oldest row to keep: everything below it goes.
            let Some(oldest_kept) = message_log::Entity::find()
                .select_only()
                .column(message_log::Column::Id)
                .filter(message_log::Column::ChargerId.eq(charger_id.as_str()))
                .order_by_desc(message_log::Column::Id)
                .offset(keep_per_charger.saturating_sub(1))
                .limit(1)
                .into_tuple::<i64>()
                .one(&self.log)
                .await?
            else {
                continue;
            };
            deleted += message_log::Entity::delete_many()
                .filter(message_log::Column::ChargerId.eq(charger_id.as_str()))
                .filter(message_log::Column::Id.lt(oldest_kept))
                .exec(&self.log)
                .await?
                .rows_affected;
        }
        Ok(deleted)
    }
}

fn sqlx_error(e: sqlx::Error) -> super::Error {
    super::Error::Db(DbErr::Exec(RuntimeErr::SqlxError(e)))
}
