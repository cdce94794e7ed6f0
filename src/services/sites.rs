//! Sites through the gate. A fleet manager sees only `home` sites.

use entity::site;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Audit, ListQuery, Result, Target, gate, invalid, list_scope, named_organisation, refused};
use crate::access::{AccessError, Authorized, Grant, Permission, Principal, cap};
use crate::state::AppState;
use crate::store::SiteFields;
use entity::values::SiteKind;

/// A site as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteOut {
    pub id: i32,
    pub organisation_id: i32,
    pub name: String,
    pub address: Option<String>,
    pub kind: SiteKind,
    /// Its chargers keep a local authorisation list (unless a charger says otherwise).
    pub local_list: bool,
}

impl From<site::Model> for SiteOut {
    fn from(s: site::Model) -> Self {
        Self {
            id: s.id,
            organisation_id: s.organisation_id,
            name: s.name,
            address: s.address,
            kind: s.kind,
            local_list: s.local_list,
        }
    }
}

/// `POST /api/v1/sites`
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSite {
    pub organisation_id: i32,
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: String,
    pub address: Option<String>,
    /// Default `private`.
    pub kind: Option<SiteKind>,
    /// Default `false`.
    pub local_list: Option<bool>,
}

/// `PATCH /api/v1/sites/{id}`
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SitePatch {
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    pub kind: Option<SiteKind>,
    pub local_list: Option<bool>,
}

fn target(s: &site::Model) -> Target {
    Target::new(format!("site:{}", s.id)).org(s.organisation_id)
}

/// A site the caller may see: 404 if it does not exist, is outside the caller's subtrees, or
/// is not a home site for a caller who sees home sites only.
pub(crate) async fn visible_site(state: &AppState, p: &Principal, id: i32, action: &str) -> Result<site::Model> {
    let Some(s) = state.store.site(id).await? else {
        return Err(refused(
            state,
            p,
            action,
            Target::new(format!("site:{id}")),
            AccessError::NotFound.into(),
        )
        .await);
    };
    let org = named_organisation(state, p, s.organisation_id, action).await?;
    let read = gate::<cap::ChargersRead>(state, p, &org, action, target(&s)).await?;
    if read.grant() == Grant::HomeChargers && s.kind != SiteKind::Home {
        return Err(refused(state, p, action, target(&s), AccessError::NotFound.into()).await);
    }
    Ok(s)
}

/// A site the caller may change: visible (else 404) and `ChargersWrite` on its organisation.
async fn writable_site(
    state: &AppState,
    p: &Principal,
    id: i32,
    action: &str,
) -> Result<(site::Model, Authorized<cap::ChargersWrite>)> {
    let s = visible_site(state, p, id, action).await?;
    let org = named_organisation(state, p, s.organisation_id, action).await?;
    let auth = gate::<cap::ChargersWrite>(state, p, &org, action, target(&s)).await?;
    Ok((s, auth))
}

/// Sites the caller may see.
pub async fn list(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<SiteOut>> {
    let scope = list_scope(state, p, Permission::ChargersRead, q, "site.list").await?;
    Ok(state
        .store
        .sites_in(&scope, q.page()?)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// One site.
pub async fn get(state: &AppState, p: &Principal, id: i32) -> Result<SiteOut> {
    Ok(visible_site(state, p, id, "site.read").await?.into())
}

/// Creates a site.
pub async fn create(state: &AppState, p: &Principal, input: NewSite) -> Result<SiteOut> {
    let action = "site.create";
    if input.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    let org = named_organisation(state, p, input.organisation_id, action).await?;
    let auth = gate::<cap::ChargersWrite>(state, p, &org, action, Target::new("site").org(org.id)).await?;
    let fields = SiteFields {
        name: Some(input.name.trim().to_owned()),
        address: Some(input.address.clone()),
        kind: input.kind,
        local_list: input.local_list,
    };
    let s = state.store.create_site(&auth, fields).await?;
    Audit::new(p, action, target(&s)).request(json!(input)).ok(state).await;
    Ok(s.into())
}

/// Changes a site.
pub async fn update(state: &AppState, p: &Principal, id: i32, patch: SitePatch) -> Result<SiteOut> {
    let action = "site.update";
    super::non_blank("name", patch.name.as_deref())?;
    let (s, auth) = writable_site(state, p, id, action).await?;
    let fields = SiteFields {
        name: patch.name.clone(),
        address: patch.address.clone(),
        kind: patch.kind,
        local_list: patch.local_list,
    };
    let s = state.store.update_site(&auth, s, fields).await?;
    Audit::new(p, action, target(&s)).request(json!(patch)).ok(state).await;
    Ok(s.into())
}

/// Deletes a site without chargers.
pub async fn delete(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let action = "site.delete";
    let (s, auth) = writable_site(state, p, id, action).await?;
    state.store.delete_site(&auth, &s).await?;
    Audit::new(p, action, target(&s)).ok(state).await;
    Ok(())
}
