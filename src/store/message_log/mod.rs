//! The message log: OCPP exchanges per charger, written in batches by the inspector's writer,
//! read newest first, pruned by age and per charger. Stored packed: one `message_page` row per
//! charger and batch holds that charger's exchanges of the batch, oldest first (written and
//! read by [`page`]), so a flood of small exchanges costs a fraction of a row and an index
//! entry each. Everything outside this module sees exchanges one by one ([`NewMessage`],
//! [`StoredMessage`]).

mod page;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use entity::message_page;
use entity::values::{FrameKind, MessageDirection};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, RuntimeErr, sqlx,
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
    /// Shared with the gateway's identity of the charger, not copied per exchange.
    pub charger_id: Arc<str>,
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

/// One stored exchange, as the inspector reads it back.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    /// Grows with time within a charger's log: its page's id, then its place in the page.
    pub id: i64,
    pub message: NewMessage,
}

/// Exchanges one page holds at most; an exchange's id is its page's times this, plus its place.
const PAGE_MAX: usize = 1000;
/// Pages read at a time while filling a page of the inspector.
const READ_PAGES: u64 = 64;

/// A page ready to insert.
struct NewPage<'a> {
    charger_id: &'a str,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
    count: i32,
    body: String,
}

impl<'a> NewPage<'a> {
    /// `exchanges` (one charger's, oldest first, at most [`PAGE_MAX`]) packed.
    fn pack(charger_id: &'a str, exchanges: &[&NewMessage]) -> Self {
        let first_at = exchanges.iter().map(|m| m.at).min().unwrap_or_else(Utc::now);
        let last_at = exchanges.iter().map(|m| m.at).max().unwrap_or(first_at);
        Self {
            charger_id,
            first_at,
            last_at,
            count: i32::try_from(exchanges.len()).unwrap_or(i32::MAX),
            body: page::encode(first_at, exchanges),
        }
    }
}

/// A stored page's exchanges, oldest first (none if it cannot be read: the log is no reason
/// to fail a request).
fn unpack(page: &message_page::Model) -> Vec<NewMessage> {
    page::decode(&page.body, &page.charger_id).unwrap_or_else(|e| {
        tracing::warn!(page = page.id, error = %e, "message log page skipped");
        Vec::new()
    })
}

/// The log's table in its own SQLite file; the migration makes the same one in the main
/// database, which PostgreSQL keeps using. The id is a plain rowid: it grows with time as long
/// as the newest page is never deleted (pruning deletes the oldest), without AUTOINCREMENT's
/// `sqlite_sequence` update per insert.
const SQLITE_SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS message_page (id integer NOT NULL PRIMARY KEY, charger_id varchar NOT NULL, \
     first_at timestamp_with_timezone_text NOT NULL, last_at timestamp_with_timezone_text NOT NULL, \
     count integer NOT NULL, body text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS idx_message_page_charger ON message_page (charger_id, id)",
];

/// Page cache per connection to the log's file. It is written far more than read, and
/// SQLite's default (2 MiB each) only kept pages of batches already written.
const LOG_CACHE_KIB: u32 = 256;

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
    let db = super::connect_sqlite(
        &log_config,
        sqlx::sqlite::SqliteSynchronous::Normal,
        Some(LOG_CACHE_KIB),
    )
    .await?;
    db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    for statement in SQLITE_SCHEMA {
        db.execute_unprepared(statement).await?;
    }
    Ok(db)
}

/// Pages per SQLite statement: five binders each.
const SQLITE_CHUNK: usize = 500;

impl Store {
    /// Appends exchanges, packed into a page per charger (several pages when one charger has
    /// more than [`PAGE_MAX`]). This is the busiest insert voltgate has, so it skips the query
    /// builder: one prepared multi-row statement per chunk on SQLite, one `UNNEST` of column
    /// arrays on PostgreSQL.
    pub async fn record_messages(&self, rows: &[NewMessage]) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut by_charger: Vec<(&str, Vec<&NewMessage>)> = Vec::new();
        let mut at: HashMap<&str, usize> = HashMap::new();
        for m in rows {
            let i = match at.get(&*m.charger_id) {
                Some(&i) if by_charger[i].1.len() < PAGE_MAX => i,
                _ => {
                    at.insert(&*m.charger_id, by_charger.len());
                    by_charger.push((&*m.charger_id, Vec::new()));
                    by_charger.len() - 1
                }
            };
            by_charger[i].1.push(m);
        }
        let pages: Vec<NewPage<'_>> = by_charger
            .iter()
            .map(|(charger_id, exchanges)| NewPage::pack(charger_id, exchanges))
            .collect();
        match self.log.get_database_backend() {
            DbBackend::Postgres => self.insert_pages_postgres(pages).await,
            _ => self.insert_pages_sqlite(pages).await,
        }
    }

    async fn insert_pages_sqlite(&self, pages: Vec<NewPage<'_>>) -> Result<()> {
        let pool = self.log.get_sqlite_connection_pool();
        let mut pages = pages.into_iter().peekable();
        while pages.peek().is_some() {
            let chunk: Vec<NewPage<'_>> = pages.by_ref().take(SQLITE_CHUNK).collect();
            let mut sql = String::from("INSERT INTO message_page (charger_id, first_at, last_at, count, body) VALUES ");
            for i in 0..chunk.len() {
                sql.push_str(if i == 0 { "(?,?,?,?,?)" } else { ",(?,?,?,?,?)" });
            }
            let mut query = sqlx::query(&sql);
            for p in chunk {
                query = query
                    .bind(p.charger_id)
                    .bind(p.first_at)
                    .bind(p.last_at)
                    .bind(p.count)
                    .bind(p.body);
            }
            query.execute(pool).await.map_err(sqlx_error)?;
        }
        Ok(())
    }

    async fn insert_pages_postgres(&self, pages: Vec<NewPage<'_>>) -> Result<()> {
        let n = pages.len();
        let (mut charger, mut first, mut last, mut count, mut body) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for p in pages {
            charger.push(p.charger_id);
            first.push(p.first_at);
            last.push(p.last_at);
            count.push(p.count);
            body.push(p.body);
        }
        sqlx::query(
            "INSERT INTO message_page (charger_id, first_at, last_at, count, body) SELECT * FROM \
             UNNEST($1::varchar[], $2::timestamptz[], $3::timestamptz[], $4::int4[], $5::text[])",
        )
        .bind(charger)
        .bind(first)
        .bind(last)
        .bind(count)
        .bind(body)
        .execute(self.log.get_postgres_connection_pool())
        .await
        .map_err(sqlx_error)?;
        Ok(())
    }

    /// A charger's exchanges, newest first; reading needs the message-log proof for the
    /// charger's organisation. Pages are unpacked newest first until the page asked for is
    /// full.
    pub async fn messages(
        &self,
        _proof: &Authorized<cap::MessagesRead>,
        charger_id: &str,
        filter: &MessageFilter,
        page: Page,
    ) -> Result<Vec<StoredMessage>> {
        let mut skip = page.offset;
        let want = usize::try_from(page.limit).unwrap_or(usize::MAX);
        let mut found = Vec::new();
        let mut below: Option<i64> = None;
        loop {
            let mut query = message_page::Entity::find().filter(message_page::Column::ChargerId.eq(charger_id));
            if let Some(before) = filter.before {
                query = query.filter(message_page::Column::FirstAt.lt(before));
            }
            if let Some(id) = below {
                query = query.filter(message_page::Column::Id.lt(id));
            }
            let pages = query
                .order_by_desc(message_page::Column::Id)
                .limit(READ_PAGES)
                .all(&self.log)
                .await?;
            for p in &pages {
                below = Some(p.id);
                let exchanges = unpack(p);
                for (i, x) in exchanges.into_iter().enumerate().rev() {
                    let wanted = filter.before.is_none_or(|before| x.at < before)
                        && filter.action.as_ref().is_none_or(|a| x.action.as_ref() == Some(a))
                        && filter.direction.is_none_or(|d| x.direction == d);
                    if !wanted {
                        continue;
                    }
                    if skip > 0 {
                        skip -= 1;
                        continue;
                    }
                    found.push(StoredMessage {
                        id: p.id * PAGE_MAX as i64 + i as i64,
                        message: x,
                    });
                    if found.len() >= want {
                        return Ok(found);
                    }
                }
            }
            if (pages.len() as u64) < READ_PAGES {
                return Ok(found);
            }
        }
    }

    /// Deletes exchanges older than `older_than` (whole pages: a page goes once its newest
    /// exchange is that old), and beyond the newest `keep_per_charger` of each charger
    /// (exactly: the page the cap falls in keeps its newest part); returns how many went.
    pub async fn prune_messages(&self, older_than: Option<DateTime<Utc>>, keep_per_charger: u64) -> Result<u64> {
        let mut deleted = 0;
        if let Some(cutoff) = older_than {
            // Ids grow with time, so the first page young enough bounds what goes; finding it
            // walks the primary key past exactly the pages to delete (no index on the times:
            // one less to update on the busiest insert).
            let first_kept: Option<i64> = message_page::Entity::find()
                .select_only()
                .column(message_page::Column::Id)
                .filter(message_page::Column::LastAt.gte(cutoff))
                .order_by_asc(message_page::Column::Id)
                .limit(1)
                .into_tuple()
                .one(&self.log)
                .await?;
            deleted += self.delete_pages(None, first_kept).await?;
        }
        let keep = i64::try_from(keep_per_charger).unwrap_or(i64::MAX);
        let over: Vec<(String, Option<i64>)> = message_page::Entity::find()
            .select_only()
            .column(message_page::Column::ChargerId)
            .column_as(Expr::col(message_page::Column::Count).sum(), "n")
            .group_by(message_page::Column::ChargerId)
            .having(Expr::expr(Expr::col(message_page::Column::Count).sum()).gt(keep))
            .into_tuple()
            .all(&self.log)
            .await?;
        for (charger_id, _) in over {
            deleted += self.cap_charger(&charger_id, keep).await?;
        }
        Ok(deleted)
    }

    /// Keeps a charger's newest `keep` exchanges: the pages within them whole, the page the
    /// cap falls in cut to its newest part, the older pages deleted.
    async fn cap_charger(&self, charger_id: &str, keep: i64) -> Result<u64> {
        let counts: Vec<(i64, i32)> = message_page::Entity::find()
            .select_only()
            .columns([message_page::Column::Id, message_page::Column::Count])
            .filter(message_page::Column::ChargerId.eq(charger_id))
            .order_by_desc(message_page::Column::Id)
            .into_tuple()
            .all(&self.log)
            .await?;
        let mut kept = 0;
        for (id, count) in counts {
            let count = i64::from(count);
            if kept + count <= keep {
                kept += count;
                continue;
            }
            let mut deleted = 0;
            let room = keep - kept;
            let older_from = if room > 0 {
                deleted += self.cut_page(id, room).await?;
                id
            } else {
                id + 1
            };
            deleted += self.delete_pages(Some(charger_id), Some(older_from)).await?;
            return Ok(deleted);
        }
        Ok(0)
    }

    /// Cuts page `id` to its newest `room` exchanges; returns how many went.
    async fn cut_page(&self, id: i64, room: i64) -> Result<u64> {
        let Some(page) = message_page::Entity::find_by_id(id).one(&self.log).await? else {
            return Ok(0);
        };
        let exchanges = unpack(&page);
        let cut = exchanges
            .len()
            .saturating_sub(usize::try_from(room).unwrap_or(usize::MAX));
        if cut == 0 {
            return Ok(0);
        }
        let rest: Vec<&NewMessage> = exchanges[cut..].iter().collect();
        let packed = NewPage::pack(&page.charger_id, &rest);
        message_page::Entity::update(message_page::ActiveModel {
            id: Set(page.id),
            first_at: Set(packed.first_at),
            count: Set(packed.count),
            body: Set(packed.body),
            ..Default::default()
        })
        .exec(&self.log)
        .await?;
        Ok(cut as u64)
    }

    /// Deletes the pages (of one charger, or all) with an id below `below` (all of them with
    /// `None`); returns how many exchanges they held.
    async fn delete_pages(&self, charger_id: Option<&str>, below: Option<i64>) -> Result<u64> {
        let mut held = message_page::Entity::find()
            .select_only()
            .column_as(Expr::col(message_page::Column::Count).sum(), "n");
        let mut gone = message_page::Entity::delete_many();
        if let Some(charger_id) = charger_id {
            held = held.filter(message_page::Column::ChargerId.eq(charger_id));
            gone = gone.filter(message_page::Column::ChargerId.eq(charger_id));
        }
        if let Some(id) = below {
            held = held.filter(message_page::Column::Id.lt(id));
            gone = gone.filter(message_page::Column::Id.lt(id));
        }
        let held: Option<Option<i64>> = held.into_tuple().one(&self.log).await?;
        gone.exec(&self.log).await?;
        Ok(held.flatten().unwrap_or(0).max(0) as u64)
    }
}

fn sqlx_error(e: sqlx::Error) -> super::Error {
    super::Error::Db(DbErr::Exec(RuntimeErr::SqlxError(e)))
}
