//! Sites: where chargers stand.

use chrono::Utc;
use entity::values::SiteKind;
use entity::{charger, site};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::scope::{Page, scope_condition};
use super::{Error, Result, Store};
use crate::access::{Authorized, Scope, cap};

/// New or changed site fields.
#[derive(Debug, Clone, Default)]
pub struct SiteFields {
    pub name: Option<String>,
    pub address: Option<Option<String>>,
    pub kind: Option<SiteKind>,
    pub local_list: Option<bool>,
}

impl Store {
    /// A site by id.
    pub async fn site(&self, id: i32) -> Result<Option<site::Model>> {
        Ok(site::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Sites in the scope (home sites only where the grant is [`crate::access::Grant::HomeChargers`]).
    pub async fn sites_in(&self, scope: &Scope, page: Page) -> Result<Vec<site::Model>> {
        Ok(site::Entity::find()
            .filter(scope_condition(
                scope,
                site::Column::OrganisationId,
                Some(site::Column::Id),
                None,
            ))
            .order_by_asc(site::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// Creates a site in the organisation `auth` was granted on.
    pub async fn create_site(&self, auth: &Authorized<cap::ChargersWrite>, fields: SiteFields) -> Result<site::Model> {
        auth.ensure(auth.organisation_id())?;
        Ok(site::ActiveModel {
            organisation_id: Set(auth.organisation_id()),
            name: Set(fields.name.unwrap_or_default()),
            address: Set(fields.address.flatten()),
            kind: Set(fields.kind.unwrap_or(SiteKind::Private)),
            local_list: Set(fields.local_list.unwrap_or(false)),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await?)
    }

    /// Changes a site.
    pub async fn update_site(
        &self,
        auth: &Authorized<cap::ChargersWrite>,
        s: site::Model,
        fields: SiteFields,
    ) -> Result<site::Model> {
        auth.ensure(s.organisation_id)?;
        let answers_change = fields.kind.is_some_and(|k| k != s.kind);
        let placement_change = fields.local_list.is_some_and(|on| on != s.local_list);
        let mut active: site::ActiveModel = s.into();
        if let Some(name) = fields.name {
            active.name = Set(name);
        }
        if let Some(address) = fields.address {
            active.address = Set(address);
        }
        if let Some(kind) = fields.kind {
            active.kind = Set(kind);
        }
        if let Some(on) = fields.local_list {
            active.local_list = Set(on);
        }
        let updated = active.update(&self.db).await?;
        if answers_change || placement_change {
            self.touched_tree_of(updated.organisation_id, answers_change).await;
        }
        Ok(updated)
    }

    /// Deletes a site without chargers.
    pub async fn delete_site(&self, auth: &Authorized<cap::ChargersWrite>, s: &site::Model) -> Result<()> {
        auth.ensure(s.organisation_id)?;
        let chargers = charger::Entity::find()
            .filter(charger::Column::SiteId.eq(s.id))
            .count(&self.db)
            .await?;
        if chargers > 0 {
            return Err(Error::Conflict(format!(
                "site {} still has {chargers} charger(s)",
                s.id
            )));
        }
        site::Entity::delete_by_id(s.id).exec(&self.db).await?;
        Ok(())
    }
}
