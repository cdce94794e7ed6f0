//! Access rules (which driver groups may charge at a private site) and tariffs. Support gets
//! the "reduced view": it sees that a rule exists, not the names of groups that belong to
//! organisations outside its own subtrees.

use entity::{access_rule, tariff};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::sites::visible_site;
use super::{Audit, ListQuery, Result, Target, gate, invalid, list_scope, named_organisation, owned, refused};
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

/// A tariff as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TariffOut {
    pub id: i32,
    pub organisation_id: i32,
    pub price_per_kwh: f64,
    pub currency: String,
}

impl From<tariff::Model> for TariffOut {
    fn from(t: tariff::Model) -> Self {
        Self {
            id: t.id,
            organisation_id: t.organisation_id,
            price_per_kwh: t.price_per_kwh,
            currency: t.currency,
        }
    }
}

/// No tariff is dearer than this per kWh, in any currency we bill.
const MAX_PRICE_PER_KWH: f64 = 1000.0;

/// `POST /api/v1/tariffs` (all required) and `PATCH /api/v1/tariffs/{id}`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TariffIn {
    pub organisation_id: Option<i32>,
    #[schema(minimum = 0, maximum = 1000)]
    pub price_per_kwh: Option<f64>,
    /// ISO 4217 code, e.g. `EUR`.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
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
    let (site, auth) = owned::<cap::AccessRulesWrite, _>(
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

/// Tariffs the caller may see (billing).
pub async fn list_tariffs(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<TariffOut>> {
    let scope = list_scope(state, p, Permission::Billing, q, "tariff.list").await?;
    Ok(state
        .store
        .tariffs_in(&scope, q.page()?)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Creates (`id` None) or changes a tariff.
pub async fn save_tariff(state: &AppState, p: &Principal, id: Option<i32>, input: TariffIn) -> Result<TariffOut> {
    let action = if id.is_some() { "tariff.update" } else { "tariff.create" };
    if input
        .price_per_kwh
        .is_some_and(|x| !(0.0..=MAX_PRICE_PER_KWH).contains(&x))
    {
        return Err(invalid("price_per_kwh", "must be a number between 0 and 1000"));
    }
    if input
        .currency
        .as_deref()
        .is_some_and(|c| c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()))
    {
        return Err(invalid("currency", "must be an ISO 4217 code such as EUR"));
    }
    let (existing, auth) = match id {
        Some(id) => {
            let found = state.store.tariff(id).await?;
            let (t, auth) = owned::<cap::AccessRulesWrite, _>(
                state,
                p,
                found,
                |t| t.organisation_id,
                action,
                format!("tariff:{id}"),
            )
            .await?;
            (Some(t), auth)
        }
        None => {
            let org_id = input
                .organisation_id
                .ok_or_else(|| invalid("organisation_id", "required"))?;
            if input.price_per_kwh.is_none() {
                return Err(invalid("price_per_kwh", "required"));
            }
            if input.currency.is_none() {
                return Err(invalid("currency", "required"));
            }
            let org = named_organisation(state, p, org_id, action).await?;
            (
                None,
                gate::<cap::AccessRulesWrite>(state, p, &org, action, Target::new("tariff").org(org.id)).await?,
            )
        }
    };
    let t = state
        .store
        .save_tariff(&auth, existing, input.price_per_kwh, input.currency.clone())
        .await?;
    Audit::new(
        p,
        action,
        Target::new(format!("tariff:{}", t.id)).org(t.organisation_id),
    )
    .request(json!(input))
    .ok(state)
    .await;
    Ok(t.into())
}

/// Deletes a tariff.
pub async fn delete_tariff(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let found = state.store.tariff(id).await?;
    let (t, auth) = owned::<cap::AccessRulesWrite, _>(
        state,
        p,
        found,
        |t| t.organisation_id,
        "tariff.delete",
        format!("tariff:{id}"),
    )
    .await?;
    state.store.delete_tariff(&auth, &t).await?;
    Audit::new(
        p,
        "tariff.delete",
        Target::new(format!("tariff:{id}")).org(t.organisation_id),
    )
    .ok(state)
    .await;
    Ok(())
}

/// `POST /api/v1/tariffs`: all of it is required.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTariff {
    pub organisation_id: i32,
    #[schema(minimum = 0, maximum = 1000)]
    pub price_per_kwh: f64,
    /// ISO 4217 code, e.g. `EUR`.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: String,
}

impl From<NewTariff> for TariffIn {
    fn from(t: NewTariff) -> Self {
        Self {
            organisation_id: Some(t.organisation_id),
            price_per_kwh: Some(t.price_per_kwh),
            currency: Some(t.currency),
        }
    }
}
