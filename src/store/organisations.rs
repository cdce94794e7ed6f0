//! The organisation tree, with a materialised path per node (`/1/4/9/`) so that subtree
//! questions are one indexed `LIKE 'prefix%'` query, never recursion in Rust.

use chrono::Utc;
use entity::{charger, driver, driver_group, id_token, membership, organisation, site, tariff, ticket, user};
use sea_orm::sea_query::{Alias, BinOper, Expr, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::scope::{Page, path_prefix, scope_condition};
use super::{Error, Result, Store};
use crate::access::{Authorized, Scope, cap};

/// The root organisation's id from a materialised path (`/1/4/9/` -> 1).
pub fn root_of(path: &str) -> i32 {
    path.split('/')
        .find(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
        .unwrap_or_default()
}

/// The ids on a path, root first (`/1/4/9/` -> [1, 4, 9]).
pub fn ancestors_of(path: &str) -> Vec<i32> {
    path.split('/').filter_map(|s| s.parse().ok()).collect()
}

impl Store {
    /// Reports a change to the tree `org_id` is in (nothing if it is gone); `answers`: it may
    /// change what Authorize answers, not only where chargers stand.
    pub(super) async fn touched_tree_of(&self, org_id: i32, answers: bool) {
        match self.organisation(org_id).await {
            Ok(Some(org)) => self.touched_tree(root_of(&org.path), answers),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, org_id, "local lists not told of a change"),
        }
    }

    /// The roots of every organisation tree.
    pub async fn root_organisations(&self) -> Result<Vec<organisation::Model>> {
        Ok(organisation::Entity::find()
            .filter(organisation::Column::ParentId.is_null())
            .all(&self.db)
            .await?)
    }

    /// Creates the root organisation when the tree is empty; returns the root either way.
    pub async fn ensure_root_organisation(&self, name: &str) -> Result<organisation::Model> {
        if let Some(root) = organisation::Entity::find()
            .filter(organisation::Column::ParentId.is_null())
            .order_by_asc(organisation::Column::Id)
            .one(&self.db)
            .await?
        {
            return Ok(root);
        }
        let txn = self.begin_write().await?;
        let root = insert_organisation(&txn, name, None).await?;
        txn.commit().await?;
        Ok(root)
    }

    /// An organisation by id.
    pub async fn organisation(&self, id: i32) -> Result<Option<organisation::Model>> {
        Ok(organisation::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Creates an organisation below the one `auth` was granted on.
    pub async fn create_organisation(
        &self,
        auth: &Authorized<cap::OrganisationsCreate>,
        name: &str,
    ) -> Result<organisation::Model> {
        auth.ensure(auth.organisation_id())?;
        let txn = self.begin_write().await?;
        let created = insert_organisation(&txn, name, Some(auth.organisation_id())).await?;
        txn.commit().await?;
        Ok(created)
    }

    /// Organisations whose faults open tickets.
    pub async fn auto_ticket_organisations(&self) -> Result<Vec<organisation::Model>> {
        Ok(organisation::Entity::find()
            .filter(organisation::Column::AutoTickets.eq(true))
            .order_by_asc(organisation::Column::Path)
            .all(&self.db)
            .await?)
    }

    /// Applies an organisation's changes in one transaction: all of them or none. A move
    /// needs proofs on its current parent (who manages it) and on the new parent, and refuses
    /// a move into its own subtree.
    pub async fn update_organisation(
        &self,
        auth: &Authorized<cap::OrganisationsCreate>,
        org: &organisation::Model,
        changes: OrganisationChanges<'_>,
    ) -> Result<organisation::Model> {
        auth.ensure(org.id)?;
        let name = changes.name.map(valid_name).transpose()?;
        if let Some(m) = &changes.parent {
            let Some(parent_now) = org.parent_id else {
                return Err(Error::Conflict("the root organisation cannot move".into()));
            };
            m.auth_parent_now.ensure(parent_now)?;
            m.auth_parent.ensure(m.new_parent.id)?;
            if m.new_parent.path.starts_with(&org.path) {
                return Err(Error::Conflict(
                    "an organisation cannot move into its own subtree".into(),
                ));
            }
        }
        let txn = self.begin_write().await?;
        if name.is_some() || changes.require_2fa.is_some() || changes.auto_tickets.is_some() {
            let mut active: organisation::ActiveModel = org.clone().into();
            if let Some(name) = name {
                active.name = Set(name.to_owned());
            }
            if let Some(on) = changes.require_2fa {
                active.require_2fa = Set(on);
            }
            if let Some((on, after_s)) = changes.auto_tickets {
                active.auto_tickets = Set(on);
                active.auto_tickets_after_s = Set(after_s);
            }
            active.update(&txn).await?;
        }
        let moved_to = changes.parent.as_ref().map(|m| root_of(&m.new_parent.path));
        if let Some(m) = changes.parent {
            move_subtree(&txn, org, m.new_parent).await?;
        }
        txn.commit().await?;
        if let Some(root) = moved_to {
            // Tokens and chargers below it now answer to other ancestors.
            self.touched_tree(root_of(&org.path), true);
            if root != root_of(&org.path) {
                self.touched_tree(root, true);
            }
        }
        self.organisation(org.id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("organisation {}", org.id)))
    }

    /// Deletes an organisation that holds nothing (409 otherwise); needs a proof on its parent.
    pub async fn delete_organisation(
        &self,
        auth_parent: &Authorized<cap::OrganisationsCreate>,
        org: &organisation::Model,
    ) -> Result<()> {
        let Some(parent) = org.parent_id else {
            return Err(Error::Conflict("the root organisation cannot be deleted".into()));
        };
        auth_parent.ensure(parent)?;
        let id = org.id;
        // Checked and deleted in one write transaction: nothing is added in between.
        let txn = self.begin_write().await?;
        let held = holdings(&txn, id).await?;
        if !held.is_empty() {
            return Err(Error::Conflict(format!(
                "organisation {id} is not empty: {}",
                held.join(", ")
            )));
        }
        organisation::Entity::delete_by_id(id)
            .exec(&txn)
            .await
            .map_err(|e| match e.sql_err() {
                // Something was added concurrently.
                Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => {
                    Error::Conflict(format!("organisation {id} is not empty"))
                }
                _ if e.to_string().contains("FOREIGN KEY") => {
                    Error::Conflict(format!("organisation {id} is not empty"))
                }
                _ => Error::Db(e),
            })?;
        txn.commit().await?;
        Ok(())
    }

    /// Organisations in the scope, parents before children.
    pub async fn organisations_in(&self, scope: &Scope, page: Page) -> Result<Vec<organisation::Model>> {
        Ok(organisation::Entity::find()
            .filter(scope_condition(scope, organisation::Column::Id, None, None))
            .order_by_asc(organisation::Column::Path)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// The ids of the organisations in the subtrees of the scope's entries, whatever each
    /// entry's grant (the tally sums its counts over them).
    pub async fn organisation_ids_in(&self, scope: &Scope) -> Result<Vec<i32>> {
        if scope.entries().is_empty() {
            return Ok(Vec::new());
        }
        let mut any = Condition::any();
        for (path, _) in scope.entries() {
            any = any.add(path_prefix(path));
        }
        Ok(organisation::Entity::find()
            .select_only()
            .column(organisation::Column::Id)
            .filter(any)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Every organisation, parents before children (CLI).
    pub async fn list_organisations(&self) -> Result<Vec<organisation::Model>> {
        Ok(organisation::Entity::find()
            .order_by_asc(organisation::Column::Path)
            .all(&self.db)
            .await?)
    }

    /// Finds an organisation by id (digits) or by exact name.
    pub async fn find_organisation(&self, reference: &str) -> Result<organisation::Model> {
        let not_found = || Error::NotFound(format!("organisation {reference:?}"));
        if let Ok(id) = reference.parse::<i32>() {
            return self.organisation(id).await?.ok_or_else(not_found);
        }
        let mut matches = organisation::Entity::find()
            .filter(organisation::Column::Name.eq(reference))
            .all(&self.db)
            .await?;
        match matches.len() {
            0 => Err(not_found()),
            1 => Ok(matches.remove(0)),
            n => Err(Error::Conflict(format!(
                "{n} organisations are named {reference:?}; use the id"
            ))),
        }
    }

    /// Number of organisations.
    pub async fn count_organisations(&self) -> Result<u64> {
        Ok(organisation::Entity::find().count(&self.db).await?)
    }
}

fn valid_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.len() > 200 {
        return Err(Error::Invalid("name must be 1 to 200 characters".into()));
    }
    Ok(name)
}

async fn insert_organisation(
    db: &impl ConnectionTrait,
    name: &str,
    parent_id: Option<i32>,
) -> Result<organisation::Model> {
    let name = valid_name(name)?;
    let parent_path = match parent_id {
        Some(id) => Some(
            organisation::Entity::find_by_id(id)
                .one(db)
                .await?
                .ok_or_else(|| Error::NotFound(format!("organisation {id}")))?
                .path,
        ),
        None => None,
    };
    // The path holds the row's own id, known only after the insert: write a unique
    // placeholder, then the real path, inside the caller's transaction.
    let created = organisation::ActiveModel {
        name: Set(name.to_owned()),
        parent_id: Set(parent_id),
        path: Set(format!("pending:{}", crate::crypto::random_token(12))),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let path = format!("{}{}/", parent_path.as_deref().unwrap_or("/"), created.id);
    let mut active: organisation::ActiveModel = created.into();
    active.path = Set(path);
    Ok(active.update(db).await?)
}

/// What an organisation update changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct OrganisationChanges<'a> {
    pub name: Option<&'a str>,
    pub require_2fa: Option<bool>,
    /// Whether faults open tickets, and after how many seconds.
    pub auto_tickets: Option<(bool, i32)>,
    pub parent: Option<Move<'a>>,
}

/// A move below `new_parent`, with the proofs on both parents.
#[derive(Debug)]
pub struct Move<'a> {
    pub auth_parent_now: &'a Authorized<cap::OrganisationsCreate>,
    pub auth_parent: &'a Authorized<cap::OrganisationsCreate>,
    pub new_parent: &'a organisation::Model,
}

/// Rewrites the paths of `org`'s subtree below `new_parent`.
async fn move_subtree(
    txn: &impl ConnectionTrait,
    org: &organisation::Model,
    new_parent: &organisation::Model,
) -> Result<()> {
    let old_prefix = org.path.clone();
    let new_prefix = format!("{}{}/", new_parent.path, org.id);
    organisation::Entity::update_many()
        .col_expr(
            organisation::Column::Path,
            // new_prefix || substr(path, len(old_prefix) + 1), spelled with portable parts;
            // i32 because PostgreSQL has substr(text, integer) but no bigint variant.
            Expr::val(new_prefix).binary(
                BinOper::Custom("||"),
                Func::cust(Alias::new("substr"))
                    .arg(Expr::col(organisation::Column::Path))
                    .arg(i32::try_from(old_prefix.len() + 1).unwrap_or(i32::MAX)),
            ),
        )
        .filter(organisation::Column::Path.like(format!("{old_prefix}%")))
        .exec(txn)
        .await?;
    organisation::Entity::update_many()
        .col_expr(organisation::Column::ParentId, Expr::value(new_parent.id))
        .filter(organisation::Column::Id.eq(org.id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Rows of `E` whose `col` is `id`.
async fn count<E: EntityTrait>(db: &impl ConnectionTrait, col: E::Column, id: i32) -> Result<u64>
where
    E::Model: Sync,
{
    Ok(E::find().filter(col.eq(id)).count(db).await?)
}

/// What an organisation still holds, as "3 sites" phrases; empty when it may be deleted.
async fn holdings(txn: &sea_orm::DatabaseTransaction, id: i32) -> Result<Vec<String>> {
    let checks = [
        (
            "child organisations",
            count::<organisation::Entity>(txn, organisation::Column::ParentId, id).await?,
        ),
        (
            "sites",
            count::<site::Entity>(txn, site::Column::OrganisationId, id).await?,
        ),
        (
            "chargers",
            count::<charger::Entity>(txn, charger::Column::OrganisationId, id).await?,
        ),
        (
            "users",
            count::<user::Entity>(txn, user::Column::OrganisationId, id).await?,
        ),
        (
            "memberships",
            count::<membership::Entity>(txn, membership::Column::OrganisationId, id).await?,
        ),
        (
            "tickets",
            count::<ticket::Entity>(txn, ticket::Column::OrganisationId, id).await?,
        ),
        (
            "drivers",
            count::<driver::Entity>(txn, driver::Column::OrganisationId, id).await?,
        ),
        (
            "driver groups",
            count::<driver_group::Entity>(txn, driver_group::Column::OrganisationId, id).await?,
        ),
        (
            "id tokens",
            count::<id_token::Entity>(txn, id_token::Column::OrganisationId, id).await?,
        ),
        (
            "tariffs",
            count::<tariff::Entity>(txn, tariff::Column::OrganisationId, id).await?,
        ),
    ];
    Ok(checks
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(root_of("/1/4/9/"), 1);
        assert_eq!(ancestors_of("/1/4/9/"), vec![1, 4, 9]);
    }
}
