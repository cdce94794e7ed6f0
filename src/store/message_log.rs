//! The message log: OCPP exchanges per charger, written in batches by the inspector's writer,
//! read newest first, pruned by age and per charger.

use chrono::{DateTime, Utc};
use entity::message_log;
use entity::values::MessageDirection;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

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

/// Rows an insert carries at most: ten binders each stays far below SQLite's 32,766.
const INSERT_CHUNK: usize = 1_000;

impl Store {
    /// Appends exchanges in one statement per chunk.
    pub async fn record_messages(&self, rows: Vec<message_log::ActiveModel>) -> Result<()> {
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(INSERT_CHUNK).collect();
            message_log::Entity::insert_many(chunk).exec(&self.db).await?;
        }
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
            .all(&self.db)
            .await?)
    }

    /// Deletes exchanges older than `older_than`, and beyond the newest `keep_per_charger` of
    /// each charger; returns how many went.
    pub async fn prune_messages(&self, older_than: Option<DateTime<Utc>>, keep_per_charger: u64) -> Result<u64> {
        let mut deleted = 0;
        if let Some(cutoff) = older_than {
            deleted += message_log::Entity::delete_many()
                .filter(message_log::Column::At.lt(cutoff))
                .exec(&self.db)
                .await?
                .rows_affected;
        }
        let over: Vec<String> = message_log::Entity::find()
            .select_only()
            .column(message_log::Column::ChargerId)
            .group_by(message_log::Column::ChargerId)
            .having(Expr::expr(Expr::col(message_log::Column::Id).count()).gt(keep_per_charger))
            .into_tuple()
            .all(&self.db)
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
                .one(&self.db)
                .await?
            else {
                continue;
            };
            deleted += message_log::Entity::delete_many()
                .filter(message_log::Column::ChargerId.eq(charger_id.as_str()))
                .filter(message_log::Column::Id.lt(oldest_kept))
                .exec(&self.db)
                .await?
                .rows_affected;
        }
        Ok(deleted)
    }
}
