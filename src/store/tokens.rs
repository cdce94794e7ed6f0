//! Drivers, driver groups, id tokens, access rules and tariffs.

use chrono::{DateTime, Utc};
use entity::values::{TokenKind, TokenStatus};
use entity::{access_rule, driver, driver_group, id_token, organisation, site, tariff};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TryIntoModel,
};

use super::scope::{Page, scope_condition};
use super::{Result, Store, conflict_on_unique};
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

/// New or changed id token fields; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct TokenFields {
    pub kind: Option<TokenKind>,
    pub driver_id: Option<Option<i32>>,
    pub group_id: Option<Option<i32>>,
    pub status: Option<TokenStatus>,
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

impl Store {
    /// A driver by id.
    pub async fn driver(&self, id: i32) -> Result<Option<driver::Model>> {
        Ok(driver::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Drivers in the scope.
    pub async fn drivers_in(&self, scope: &Scope, page: Page) -> Result<Vec<driver::Model>> {
        Ok(driver::Entity::find()
            .filter(scope_condition(scope, driver::Column::OrganisationId, None, None))
            .order_by_asc(driver::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
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

    /// A driver group by id.
    pub async fn group(&self, id: i32) -> Result<Option<driver_group::Model>> {
        Ok(driver_group::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Groups in the scope.
    pub async fn groups_in(&self, scope: &Scope, page: Page) -> Result<Vec<driver_group::Model>> {
        Ok(driver_group::Entity::find()
            .filter(scope_condition(scope, driver_group::Column::OrganisationId, None, None))
            .order_by_asc(driver_group::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
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
        Ok(())
    }

    /// An id token by id.
    pub async fn id_token(&self, id: i32) -> Result<Option<id_token::Model>> {
        Ok(id_token::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// An id token by value within an organisation tree.
    pub async fn id_token_by_value(&self, root_id: i32, token: &str) -> Result<Option<id_token::Model>> {
        Ok(id_token::Entity::find()
            .filter(id_token::Column::RootId.eq(root_id))
            .filter(id_token::Column::Token.eq(token))
            .one(&self.db)
            .await?)
    }

    /// Tokens in the scope.
    pub async fn id_tokens_in(&self, scope: &Scope, page: Page) -> Result<Vec<id_token::Model>> {
        Ok(id_token::Entity::find()
            .filter(scope_condition(scope, id_token::Column::OrganisationId, None, None))
            .order_by_asc(id_token::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// Creates a token in `org` (409 if the value exists in the same tree).
    pub async fn create_id_token(
        &self,
        auth: &Authorized<cap::DriversWrite>,
        org: &organisation::Model,
        token: &str,
        fields: TokenFields,
    ) -> Result<id_token::Model> {
        auth.ensure(org.id)?;
        id_token::ActiveModel {
            token: Set(token.to_owned()),
            kind: Set(fields.kind.unwrap_or(TokenKind::Iso14443)),
            organisation_id: Set(org.id),
            root_id: Set(root_of(&org.path)),
            driver_id: Set(fields.driver_id.flatten()),
            group_id: Set(fields.group_id.flatten()),
            status: Set(fields.status.unwrap_or(TokenStatus::Accepted)),
            expires_at: Set(fields.expires_at.flatten()),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| conflict_on_unique(e, "this token value cannot be registered here".into()))
    }

    /// Changes a token.
    pub async fn update_id_token(
        &self,
        auth: &Authorized<cap::DriversWrite>,
        t: id_token::Model,
        f: TokenFields,
    ) -> Result<id_token::Model> {
        auth.ensure(t.organisation_id)?;
        let mut active: id_token::ActiveModel = t.into();
        if let Some(kind) = f.kind {
            active.kind = Set(kind);
        }
        if let Some(driver) = f.driver_id {
            active.driver_id = Set(driver);
        }
        if let Some(group) = f.group_id {
            active.group_id = Set(group);
        }
        if let Some(status) = f.status {
            active.status = Set(status);
        }
        if let Some(expires) = f.expires_at {
            active.expires_at = Set(expires);
        }
        Ok(active.update(&self.db).await?)
    }

    /// Deletes a token.
    pub async fn delete_id_token(&self, auth: &Authorized<cap::DriversWrite>, t: &id_token::Model) -> Result<()> {
        auth.ensure(t.organisation_id)?;
        id_token::Entity::delete_by_id(t.id).exec(&self.db).await?;
        Ok(())
    }

    /// An access rule by id.
    pub async fn access_rule(&self, id: i32) -> Result<Option<access_rule::Model>> {
        Ok(access_rule::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Whether a rule admits `group_id` at `site_id`.
    pub async fn access_rule_exists(&self, site_id: i32, group_id: i32) -> Result<bool> {
        Ok(access_rule::Entity::find()
            .filter(access_rule::Column::SiteId.eq(site_id))
            .filter(access_rule::Column::GroupId.eq(group_id))
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Rules at sites in the scope, with their groups.
    pub async fn access_rules_in(
        &self,
        scope: &Scope,
        page: Page,
    ) -> Result<Vec<(access_rule::Model, Option<driver_group::Model>)>> {
        let sites = Query::select()
            .column(site::Column::Id)
            .from(site::Entity)
            .cond_where(scope_condition(scope, site::Column::OrganisationId, None, None))
            .to_owned();
        Ok(access_rule::Entity::find()
            .filter(Condition::all().add(access_rule::Column::SiteId.in_subquery(sites)))
            .find_also_related(driver_group::Entity)
            .order_by_asc(access_rule::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// Admits a group at a site (`auth` on the site's organisation).
    pub async fn create_access_rule(
        &self,
        auth: &Authorized<cap::AccessRulesWrite>,
        s: &site::Model,
        g: &driver_group::Model,
    ) -> Result<access_rule::Model> {
        auth.ensure(s.organisation_id)?;
        access_rule::ActiveModel {
            site_id: Set(s.id),
            group_id: Set(g.id),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| conflict_on_unique(e, "this group is already admitted at this site".into()))
    }

    /// Removes a rule.
    pub async fn delete_access_rule(
        &self,
        auth: &Authorized<cap::AccessRulesWrite>,
        s: &site::Model,
        r: &access_rule::Model,
    ) -> Result<()> {
        auth.ensure(s.organisation_id)?;
        access_rule::Entity::delete_by_id(r.id).exec(&self.db).await?;
        Ok(())
    }

    /// A tariff by id.
    pub async fn tariff(&self, id: i32) -> Result<Option<tariff::Model>> {
        Ok(tariff::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Tariffs in the scope.
    pub async fn tariffs_in(&self, scope: &Scope, page: Page) -> Result<Vec<tariff::Model>> {
        Ok(tariff::Entity::find()
            .filter(scope_condition(scope, tariff::Column::OrganisationId, None, None))
            .order_by_asc(tariff::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(root_of("/1/4/9/"), 1);
        assert_eq!(ancestors_of("/1/4/9/"), vec![1, 4, 9]);
    }
}
