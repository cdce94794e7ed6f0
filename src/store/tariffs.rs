//! Tariffs: the price per kWh of an organisation's subtree, inherited downwards.

use chrono::Utc;
use entity::tariff;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, TryIntoModel};

use super::organisations::ancestors_of;
use super::scope::{Page, owned_page};
use super::{Result, Store};
use crate::access::{Authorized, Scope, cap};

impl Store {
    /// A tariff by id.
    pub async fn tariff(&self, id: i32) -> Result<Option<tariff::Model>> {
        Ok(tariff::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Tariffs in the scope.
    pub async fn tariffs_in(&self, scope: &Scope, page: Page) -> Result<Vec<tariff::Model>> {
        owned_page::<tariff::Entity>(
            &self.db,
            scope,
            page,
            tariff::Column::OrganisationId,
            tariff::Column::Id,
        )
        .await
    }

    /// The tariff that prices charging in the organisation at `path`: its own or the nearest
    /// ancestor's.
    pub async fn tariff_for(&self, path: &str) -> Result<Option<tariff::Model>> {
        let chain = ancestors_of(path);
        let mut found = tariff::Entity::find()
            .filter(tariff::Column::OrganisationId.is_in(chain.clone()))
            .order_by_desc(tariff::Column::Id)
            .all(&self.db)
            .await?;
        found.sort_by_key(|t| std::cmp::Reverse(chain.iter().position(|id| *id == t.organisation_id)));
        Ok(found.into_iter().next())
    }

    /// Creates or changes a tariff.
    pub async fn save_tariff(
        &self,
        auth: &Authorized<cap::AccessRulesWrite>,
        existing: Option<tariff::Model>,
        price_per_kwh: Option<f64>,
        currency: Option<String>,
    ) -> Result<tariff::Model> {
        let mut active = match existing {
            Some(t) => {
                auth.ensure(t.organisation_id)?;
                t.into()
            }
            None => {
                auth.ensure(auth.organisation_id())?;
                tariff::ActiveModel {
                    organisation_id: Set(auth.organisation_id()),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                }
            }
        };
        if let Some(price) = price_per_kwh {
            active.price_per_kwh = Set(price);
        }
        if let Some(currency) = currency {
            active.currency = Set(currency);
        }
        Ok(active.save(&self.db).await?.try_into_model()?)
    }

    /// Deletes a tariff.
    pub async fn delete_tariff(&self, auth: &Authorized<cap::AccessRulesWrite>, t: &tariff::Model) -> Result<()> {
        auth.ensure(t.organisation_id)?;
        tariff::Entity::delete_by_id(t.id).exec(&self.db).await?;
        Ok(())
    }
}
