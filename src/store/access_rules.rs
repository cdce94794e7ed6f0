//! Access rules: which driver group may charge at which private site.

use chrono::Utc;
use entity::{access_rule, driver_group, site};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::scope::{Page, scope_condition};
use super::{Result, Store, conflict_on_unique};
use crate::access::{Authorized, Scope, cap};

impl Store {
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
        let rule = access_rule::ActiveModel {
            site_id: Set(s.id),
            group_id: Set(g.id),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| conflict_on_unique(e, "this group is already admitted at this site".into()))?;
        self.touched_tree_of(s.organisation_id, true).await;
        Ok(rule)
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
        self.touched_tree_of(s.organisation_id, true).await;
        Ok(())
    }
}
