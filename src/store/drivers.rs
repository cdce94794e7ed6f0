//! Drivers: the people id tokens belong to.

use chrono::Utc;
use entity::driver;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, TryIntoModel};

use super::scope::{Page, owned_page};
use super::{Result, Store};
use crate::access::{Authorized, Scope, cap};

impl Store {
    /// A driver by id.
    pub async fn driver(&self, id: i32) -> Result<Option<driver::Model>> {
        Ok(driver::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Drivers in the scope.
    pub async fn drivers_in(&self, scope: &Scope, page: Page) -> Result<Vec<driver::Model>> {
        owned_page::<driver::Entity>(
            &self.db,
            scope,
            page,
            driver::Column::OrganisationId,
            driver::Column::Id,
        )
        .await
    }

    /// Creates or changes a driver (`existing` None: create in `auth`'s organisation).
    pub async fn save_driver(
        &self,
        auth: &Authorized<cap::DriversWrite>,
        existing: Option<driver::Model>,
        name: Option<String>,
        email: Option<Option<String>>,
    ) -> Result<driver::Model> {
        let mut active = match existing {
            Some(d) => {
                auth.ensure(d.organisation_id)?;
                d.into()
            }
            None => {
                auth.ensure(auth.organisation_id())?;
                driver::ActiveModel {
                    organisation_id: Set(auth.organisation_id()),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                }
            }
        };
        if let Some(name) = name {
            active.name = Set(name);
        }
        if let Some(email) = email {
            active.email = Set(email);
        }
        Ok(active.save(&self.db).await?.try_into_model()?)
    }

    /// Deletes a driver (its tokens stay, unassigned).
    pub async fn delete_driver(&self, auth: &Authorized<cap::DriversWrite>, d: &driver::Model) -> Result<()> {
        auth.ensure(d.organisation_id)?;
        driver::Entity::delete_by_id(d.id).exec(&self.db).await?;
        Ok(())
    }
}
