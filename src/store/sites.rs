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
        Ok(active.update(&self.db).await?)
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
