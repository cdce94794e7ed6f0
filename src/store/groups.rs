//! Driver groups: what access rules admit at private sites.

use chrono::Utc;
use entity::driver_group;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, TryIntoModel};

use super::scope::{Page, owned_page};
use super::{Result, Store};
use crate::access::{Authorized, Scope, cap};

impl Store {
    /// A driver group by id.
    pub async fn group(&self, id: i32) -> Result<Option<driver_group::Model>> {
        Ok(driver_group::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Groups in the scope.
    pub async fn groups_in(&self, scope: &Scope, page: Page) -> Result<Vec<driver_group::Model>> {
        owned_page::<driver_group::Entity>(
            &self.db,
            scope,
            page,
            driver_group::Column::OrganisationId,
            driver_group::Column::Id,
        )
        .await
    }

    /// Creates or renames a group.
    pub async fn save_group(
        &self,
        auth: &Authorized<cap::DriversWrite>,
        existing: Option<driver_group::Model>,
        name: String,
    ) -> Result<driver_group::Model> {
        let mut active = match existing {
            Some(g) => {
                auth.ensure(g.organisation_id)?;
                g.into()
            }
            None => {
                auth.ensure(auth.organisation_id())?;
                driver_group::ActiveModel {
                    organisation_id: Set(auth.organisation_id()),
                    created_at: Set(Utc::now()),
                    ..Default::default()
                }
            }
        };
        active.name = Set(name);
        Ok(active.save(&self.db).await?.try_into_model()?)
    }

    /// Deletes a group (its tokens stay, ungrouped; its access rules go).
    pub async fn delete_group(&self, auth: &Authorized<cap::DriversWrite>, g: &driver_group::Model) -> Result<()> {
        auth.ensure(g.organisation_id)?;
        driver_group::Entity::delete_by_id(g.id).exec(&self.db).await?;
        self.touched_tree_of(g.organisation_id, true).await;
        Ok(())
    }
}
