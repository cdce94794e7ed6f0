//! Local authorisation lists at rest: the list each place should hold (entries carry the
//! place version they changed in; a removal stays as an entry without a status), what each
//! charger holds, and the changes of tokens, rules and chargers the store reports as they are
//! written ([`Touch`]), so no writer can forget to tell the lists.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use entity::values::LocalListState;
use entity::{charger_local_list as row, id_token, local_list_entry as entry, local_list_place as place};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use tokio::sync::mpsc;

use super::authorization::{ListedToken, Place};
use super::{Result, Store};

/// A write that may change what chargers should hold.
#[derive(Debug, Clone)]
pub enum Touch {
    /// A token was issued, changed or deleted: how it was and how it is (`None`: absent).
    Token {
        root_id: i32,
        before: Option<Box<id_token::Model>>,
        after: Option<Box<id_token::Model>>,
    },
    /// Something that may change many tokens' answers across the tree (`answers`: an access
    /// rule, a group, a site's kind, the tree's shape) or only which chargers keep which list
    /// (a charger registered, moved or its list turned on or off, a site's setting).
    Tree { root_id: i32, answers: bool },
}

/// Whether a charger keeps a local list: its own setting, else its site's.
pub fn keeps_list(c: &entity::charger::Model, site: Option<&entity::site::Model>) -> bool {
    c.local_list.unwrap_or_else(|| site.is_some_and(|s| s.local_list))
}

/// Where touches go: nowhere until someone listens (the local-list worker).
#[derive(Debug, Clone, Default)]
pub(super) struct Touches(Arc<OnceLock<mpsc::UnboundedSender<Touch>>>);

impl Store {
    /// From now on every [`Touch`] is reported on the returned channel; `None` if someone
    /// already listens.
    pub fn local_list_touches(&self) -> Option<mpsc::UnboundedReceiver<Touch>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.touches.0.set(tx).ok()?;
        Some(rx)
    }

    pub(super) fn touched(&self, touch: Touch) {
        if let Some(tx) = self.touches.0.get() {
            let _ = tx.send(touch);
        }
    }

    /// Reports a change to the tree under `root_id`.
    pub(super) fn touched_tree(&self, root_id: i32, answers: bool) {
        self.touched(Touch::Tree { root_id, answers });
    }

    /// The places of a tree that have a list.
    pub async fn local_list_places(&self, root_id: i32) -> Result<Vec<place::Model>> {
        Ok(place::Entity::find()
            .filter(place::Column::RootId.eq(root_id))
            .all(&self.db)
            .await?)
    }

    /// A place's stored row, by id.
    pub async fn local_list_place(&self, id: i32) -> Result<Option<place::Model>> {
        Ok(place::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// The stored row of `p`, made (empty, version 0) if there is none.
    pub async fn ensure_local_list_place(&self, p: &Place) -> Result<place::Model> {
        let key = p.key();
        place::Entity::insert(place::ActiveModel {
            key: Set(key.clone()),
            root_id: Set(p.root_id),
            organisation_id: Set(p.organisation_id),
            site_id: Set(p.site.as_ref().map(|s| s.id)),
            version: Set(0),
            entries: Set(0),
            computed_at: Set(Utc::now()),
            ..Default::default()
        })
        .on_conflict(OnConflict::column(place::Column::Key).do_nothing().to_owned())
        .exec_without_returning(&self.db)
        .await?;
        place::Entity::find()
            .filter(place::Column::Key.eq(key.clone()))
            .one(&self.db)
            .await?
            .ok_or_else(|| super::Error::NotFound(format!("local list place {key}")))
    }

    /// Drops places no charger uses any more (their entries go with them).
    pub async fn drop_local_list_places(&self, ids: &[i32]) -> Result<()> {
        if !ids.is_empty() {
            place::Entity::delete_many()
                .filter(place::Column::Id.is_in(ids.iter().copied()))
                .exec(&self.db)
                .await?;
        }
        Ok(())
    }

    /// A place's entries; with `tokens`, only those (removals included either way).
    pub async fn local_list_entries(&self, place_id: i32, tokens: Option<&[String]>) -> Result<Vec<entry::Model>> {
        let mut q = entry::Entity::find().filter(entry::Column::PlaceId.eq(place_id));
        if let Some(tokens) = tokens {
            q = q.filter(entry::Column::IdToken.is_in(tokens.iter().cloned()));
        }
        Ok(q.order_by_asc(entry::Column::IdToken).all(&self.db).await?)
    }

    /// How many entries [`Store::local_list_changes`] would return.
    pub async fn count_local_list_changes(&self, place_id: i32, since: Option<i32>) -> Result<u64> {
        Ok(changes_since(place_id, since).count(&self.db).await?)
    }

    /// What a charger with the place's list at version `since` has to be sent: every entry
    /// changed after it (removals as entries without a status); the whole list for `None`.
    pub async fn local_list_changes(&self, place_id: i32, since: Option<i32>) -> Result<Vec<entry::Model>> {
        Ok(changes_since(place_id, since)
            .order_by_asc(entry::Column::IdToken)
            .all(&self.db)
            .await?)
    }

    /// Writes a place's changed entries (`None`: removed) as one new version and marks its
    /// chargers pending; returns the place as it is now. Nothing changes for no changes.
    pub async fn apply_local_list_changes(
        &self,
        place_id: i32,
        changes: Vec<(String, Option<ListedToken>, entity::values::TokenKind)>,
    ) -> Result<Option<place::Model>> {
        if changes.is_empty() {
            return self.local_list_place(place_id).await;
        }
        let txn = self.begin_write().await?;
        let Some(current) = place::Entity::find_by_id(place_id).one(&txn).await? else {
            return Ok(None);
        };
        let version = current.version + 1;
        for chunk in changes.chunks(200) {
            let rows = chunk.iter().map(|(token, listed, kind)| entry::ActiveModel {
                place_id: Set(place_id),
                id_token: Set(token.clone()),
                kind: Set(listed.as_ref().map_or(*kind, |l| l.kind)),
                status: Set(listed.as_ref().map(|l| l.status)),
                expires_at: Set(listed.as_ref().and_then(|l| l.expires_at)),
                group_id_token: Set(listed.as_ref().and_then(|l| l.group_id_token.clone())),
                version: Set(version),
            });
            entry::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([entry::Column::PlaceId, entry::Column::IdToken])
                        .update_columns([
                            entry::Column::Kind,
                            entry::Column::Status,
                            entry::Column::ExpiresAt,
                            entry::Column::GroupIdToken,
                            entry::Column::Version,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(&txn)
                .await?;
        }
        let live = entry::Entity::find()
            .filter(entry::Column::PlaceId.eq(place_id))
            .filter(entry::Column::Status.is_not_null())
            .count(&txn)
            .await?;
        let mut active: place::ActiveModel = current.into();
        active.version = Set(version);
        active.entries = Set(i32::try_from(live).unwrap_or(i32::MAX));
        active.computed_at = Set(Utc::now());
        let updated = active.update(&txn).await?;
        row::Entity::update_many()
            .col_expr(row::Column::State, Expr::value(LocalListState::Pending))
            .filter(row::Column::PlaceId.eq(place_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(Some(updated))
    }

    /// A charger's list state.
    pub async fn charger_local_list(&self, charger_id: &str) -> Result<Option<row::Model>> {
        Ok(row::Entity::find_by_id(charger_id).one(&self.db).await?)
    }

    /// The list states of `charger_ids` that exist.
    pub async fn charger_local_lists(&self, charger_ids: &[String]) -> Result<HashMap<String, row::Model>> {
        let mut out = HashMap::new();
        for chunk in charger_ids.chunks(500) {
            for r in row::Entity::find()
                .filter(row::Column::ChargerId.is_in(chunk.iter().cloned()))
                .all(&self.db)
                .await?
            {
                out.insert(r.charger_id.clone(), r);
            }
        }
        Ok(out)
    }

    /// The list states of chargers at `place_id`.
    pub async fn charger_local_lists_at(&self, place_id: i32) -> Result<Vec<row::Model>> {
        Ok(row::Entity::find()
            .filter(row::Column::PlaceId.eq(place_id))
            .all(&self.db)
            .await?)
    }

    /// Chargers with something to be sent (wherever they are connected, if at all).
    pub async fn pending_local_lists(&self) -> Result<Vec<row::Model>> {
        Ok(row::Entity::find()
            .filter(
                Condition::any()
                    .add(row::Column::State.eq(LocalListState::Pending))
                    .add(row::Column::FullPending.eq(true))
                    .add(row::Column::ClearCachePending.eq(true)),
            )
            .all(&self.db)
            .await?)
    }

    /// Makes sure each of `charger_ids` has a list state and marks what it is to be sent: with
    /// `full` the whole list (it moved, or its list was turned on or off), with `clear_cache` a
    /// cache clear.
    pub async fn mark_charger_local_lists(&self, charger_ids: &[String], full: bool, clear_cache: bool) -> Result<()> {
        for chunk in charger_ids.chunks(200) {
            let rows = chunk.iter().map(|id| row::ActiveModel {
                charger_id: Set(id.clone()),
                place_id: Set(None),
                place_version: Set(0),
                list_version: Set(0),
                entries: Set(0),
                supported: Set(None),
                items_per_message: Set(None),
                bytes_per_message: Set(None),
                max_entries: Set(None),
                state: Set(LocalListState::Pending),
                last_error: Set(None),
                synced_at: Set(None),
                full_pending: Set(full),
                clear_cache_pending: Set(clear_cache),
                cache_cleared_at: Set(None),
                marks: Set(1),
            });
            let mut on_conflict = OnConflict::column(row::Column::ChargerId);
            on_conflict
                .value(row::Column::State, Expr::value(LocalListState::Pending))
                // Qualified: inside ON CONFLICT, PostgreSQL would not know which row's it is.
                .value(row::Column::Marks, Expr::col((row::Entity, row::Column::Marks)).add(1));
            if full {
                on_conflict.value(row::Column::FullPending, true);
            }
            if clear_cache {
                on_conflict.value(row::Column::ClearCachePending, true);
            }
            row::Entity::insert_many(rows)
                .on_conflict(on_conflict.to_owned())
                .exec_without_returning(&self.db)
                .await?;
        }
        Ok(())
    }

    /// Saves what a sync of `r` learnt and sent. Its pending marks are cleared (and `state`
    /// kept) only if nothing marked the charger again while it ran (a move, a cache clear);
    /// a charger whose place changed meanwhile stays pending for the difference.
    pub async fn save_charger_local_list(&self, r: &row::Model, read_marks: i32, state: LocalListState) -> Result<()> {
        row::Entity::update_many()
            .col_expr(row::Column::PlaceId, Expr::value(r.place_id))
            .col_expr(row::Column::PlaceVersion, Expr::value(r.place_version))
            .col_expr(row::Column::ListVersion, Expr::value(r.list_version))
            .col_expr(row::Column::Entries, Expr::value(r.entries))
            .col_expr(row::Column::Supported, Expr::value(r.supported))
            .col_expr(row::Column::ItemsPerMessage, Expr::value(r.items_per_message))
            .col_expr(row::Column::BytesPerMessage, Expr::value(r.bytes_per_message))
            .col_expr(row::Column::MaxEntries, Expr::value(r.max_entries))
            .col_expr(row::Column::LastError, Expr::value(r.last_error.clone()))
            .col_expr(row::Column::SyncedAt, Expr::value(r.synced_at))
            .col_expr(row::Column::CacheClearedAt, Expr::value(r.cache_cleared_at))
            .filter(row::Column::ChargerId.eq(r.charger_id.as_str()))
            .exec(&self.db)
            .await?;
        row::Entity::update_many()
            .col_expr(row::Column::State, Expr::value(state))
            .col_expr(row::Column::FullPending, Expr::value(r.full_pending))
            .col_expr(row::Column::ClearCachePending, Expr::value(r.clear_cache_pending))
            .filter(row::Column::ChargerId.eq(r.charger_id.as_str()))
            .filter(row::Column::Marks.eq(read_marks))
            .exec(&self.db)
            .await?;
        // The place may have changed while the charger was being sent the version it read.
        let now_at = Expr::cust("(SELECT version FROM local_list_place WHERE id = charger_local_list.place_id)");
        row::Entity::update_many()
            .col_expr(row::Column::State, Expr::value(LocalListState::Pending))
            .filter(row::Column::ChargerId.eq(r.charger_id.as_str()))
            .filter(row::Column::State.eq(LocalListState::Synced))
            .filter(Expr::col(row::Column::PlaceVersion).lt(now_at))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Forgets removals every charger at their place has been sent (a charger that comes to a
    /// place later gets its whole list anyway); returns how many.
    pub async fn prune_local_list_removals(&self) -> Result<u64> {
        let sql = "DELETE FROM local_list_entry WHERE status IS NULL AND version <= \
            (SELECT MIN(c.place_version) FROM charger_local_list c WHERE c.place_id = local_list_entry.place_id)";
        let done = self.db.execute_unprepared(sql).await?;
        Ok(done.rows_affected())
    }

    /// Tokens whose expiry falls in `(after, until]`: their answers change by themselves.
    pub async fn tokens_expiring(&self, after: DateTime<Utc>, until: DateTime<Utc>) -> Result<Vec<id_token::Model>> {
        Ok(id_token::Entity::find()
            .filter(id_token::Column::ExpiresAt.gt(after))
            .filter(id_token::Column::ExpiresAt.lte(until))
            .all(&self.db)
            .await?)
    }

    /// A place's entries for one token value, across the tree's places.
    pub async fn local_list_entries_for(&self, root_id: i32, token: &str) -> Result<Vec<(place::Model, entry::Model)>> {
        let places = self.local_list_places(root_id).await?;
        let by_id: HashMap<i32, place::Model> = places.into_iter().map(|p| (p.id, p)).collect();
        let entries = entry::Entity::find()
            .filter(entry::Column::IdToken.eq(token))
            .filter(entry::Column::PlaceId.is_in(by_id.keys().copied()))
            .all(&self.db)
            .await?;
        Ok(entries
            .into_iter()
            .filter_map(|e| Some((by_id.get(&e.place_id)?.clone(), e)))
            .collect())
    }
}

/// A place's entries changed after version `since` (removals included), or its whole live
/// list for `None`.
fn changes_since(place_id: i32, since: Option<i32>) -> sea_orm::Select<entry::Entity> {
    let q = entry::Entity::find().filter(entry::Column::PlaceId.eq(place_id));
    match since {
        Some(v) => q.filter(entry::Column::Version.gt(v)),
        None => q.filter(entry::Column::Status.is_not_null()),
    }
}
