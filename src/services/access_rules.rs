//! Access rules (which driver groups may charge at a private site). Support gets the "reduced
//! view": it sees that a rule exists, not the names of groups that belong to organisations
//! outside its own subtrees.

use entity::access_rule;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::sites::visible_site;
use super::{Audit, ListQuery, Result, Target, gate, invalid, list_scope, named_organisation, owned_via, refused};
use crate::access::{Grant, Permission, Principal, cap};
use crate::state::AppState;

/// An access rule as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleOut {
    pub id: i32,
    pub site_id: i32,
    pub group_id: i32,
    /// `null` in the reduced view when the group belongs outside the caller's subtrees.
    pub group_name: Option<String>,
}

/// `POST /api/v1/access-rules`
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleIn {
    pub site_id: i32,
    pub group_id: i32,
}

/// Rules at sites the caller may see rules of.
pub async fn list_rules(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<RuleOut>> {
    let scope = list_scope(state, p, Permission::AccessRulesRead, q, "access_rule.list").await?;
    let mut out = Vec::new();
    for (rule, group) in state.store.access_rules_in(&scope, q.page()?).await? {
        let site = state.store.site(rule.site_id).await?;
        let org = match site {
            Some(s) => state.store.organisation(s.organisation_id).await?,
            None => None,
        };
        let reduced = org
            .as_ref()
            .and_then(|o| p.grant_on(Permission::AccessRulesRead, o.into()))
            .is_none_or(|g| g == Grant::Reduced);
        let group_name = match group {
            Some(g) if !reduced => Some(g.name),
            Some(g) => {
                let group_org = state.store.organisation(g.organisation_id).await?;
                group_org.filter(|o| p.sees(o.into())).map(|_| g.name)
            }
            None => None,
        };
        out.push(RuleOut {
            id: rule.id,
            site_id: rule.site_id,
            group_id: rule.group_id,
            group_name,
        });
    }
    Ok(out)
}

/// Admits a group at a site.
pub async fn create_rule(state: &AppState, p: &Principal, input: RuleIn) -> Result<RuleOut> {
    let action = "access_rule.create";
    let site = visible_site(state, p, input.site_id, action).await?;
    let site_org = named_organisation(state, p, site.organisation_id, action).await?;
    let auth = gate::<cap::AccessRulesWrite>(
        state,
        p,
        &site_org,
        action,
        Target::new(format!("site:{}", site.id)).org(site_org.id),
    )
    .await?;
    // Facility managers admit groups without reading drivers: the group need only be
    // visible (in the caller's subtrees), else it answers 404 like anything unseen.
    let group = match state.store.group(input.group_id).await? {
        Some(g) => match state.store.organisation(g.organisation_id).await? {
            Some(o) if p.sees((&o).into()) => Some((g, o)),
            _ => None,
        },
        None => None,
    };
    let Some((group, group_org)) = group else {
        let target = Target::new(format!("group:{}", input.group_id));
        return Err(refused(state, p, action, target, crate::access::AccessError::NotFound.into()).await);
    };
    if crate::store::root_of(&site_org.path) != crate::store::root_of(&group_org.path) {
        return Err(invalid("group_id", "the group belongs to another organisation tree"));
    }
    let rule = state.store.create_access_rule(&auth, &site, &group).await?;
    Audit::new(
        p,
        action,
        Target::new(format!("access_rule:{}", rule.id)).org(site_org.id),
    )
    .request(json!(input))
    .ok(state)
    .await;
    Ok(RuleOut {
        id: rule.id,
        site_id: rule.site_id,
        group_id: rule.group_id,
        group_name: Some(group.name),
    })
}

/// Removes a rule.
pub async fn delete_rule(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let action = "access_rule.delete";
    let rule: Option<access_rule::Model> = state.store.access_rule(id).await?;
    let site_id = rule.as_ref().map_or(0, |r| r.site_id);
    let site = state.store.site(site_id).await?;
    let (site, auth) = owned_via::<cap::AccessRulesWrite, _>(
        state,
        p,
        site,
        |s| s.organisation_id,
        action,
        format!("access_rule:{id}"),
    )
    .await?;
    let Some(rule) = rule else {
        return Err(super::Error::NotFound(format!("access rule {id}")));
    };
    state.store.delete_access_rule(&auth, &site, &rule).await?;
    Audit::new(
        p,
        action,
        Target::new(format!("access_rule:{id}")).org(site.organisation_id),
    )
    .ok(state)
    .await;
    Ok(())
}
