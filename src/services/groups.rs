//! Driver groups through the gate, with the same rights as drivers: access rules admit a
//! group at a private site.

use entity::driver_group;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Audit, ListQuery, Result, Target, gate, invalid, list_scope, named_organisation, owned, required};
use crate::access::{Permission, Principal, cap};
use crate::state::AppState;

/// A driver group as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOut {
    pub id: i32,
    pub organisation_id: i32,
    pub name: String,
}

impl From<driver_group::Model> for GroupOut {
    fn from(g: driver_group::Model) -> Self {
        Self {
            id: g.id,
            organisation_id: g.organisation_id,
            name: g.name,
        }
    }
}

/// `POST /api/v1/driver-groups` and `PATCH /api/v1/driver-groups/{id}`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupIn {
    /// Required on create.
    pub organisation_id: Option<i32>,
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: String,
}

/// Groups the caller may read.
pub async fn list_groups(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<GroupOut>> {
    let scope = list_scope(state, p, Permission::DriversRead, q, "group.list").await?;
    Ok(state
        .store
        .groups_in(&scope, q.page()?)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// One group.
pub async fn get_group(state: &AppState, p: &Principal, id: i32) -> Result<GroupOut> {
    let found = state.store.group(id).await?;
    let (g, _) = owned::<cap::DriversRead, _>(state, p, found, id, "group.read").await?;
    Ok(g.into())
}

/// Creates (`id` None) or renames a group.
pub async fn save_group(state: &AppState, p: &Principal, id: Option<i32>, input: GroupIn) -> Result<GroupOut> {
    let action = if id.is_some() { "group.update" } else { "group.create" };
    if input.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    let (existing, auth) = match id {
        Some(id) => {
            let found = state.store.group(id).await?;
            let (g, auth) = owned::<cap::DriversWrite, _>(state, p, found, id, action).await?;
            (Some(g), auth)
        }
        None => {
            let org =
                named_organisation(state, p, required(&input.organisation_id, "organisation_id")?, action).await?;
            (
                None,
                gate::<cap::DriversWrite>(state, p, &org, action, Target::new("group").org(org.id)).await?,
            )
        }
    };
    let g = state
        .store
        .save_group(&auth, existing, input.name.trim().to_owned())
        .await?;
    Audit::new(p, action, Target::new(format!("group:{}", g.id)).org(g.organisation_id))
        .request(json!(input))
        .ok(state)
        .await;
    Ok(g.into())
}

/// Deletes a group.
pub async fn delete_group(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let found = state.store.group(id).await?;
    let (g, auth) = owned::<cap::DriversWrite, _>(state, p, found, id, "group.delete").await?;
    state.store.delete_group(&auth, &g).await?;
    Audit::new(
        p,
        "group.delete",
        Target::new(format!("group:{id}")).org(g.organisation_id),
    )
    .ok(state)
    .await;
    Ok(())
}

/// `POST /api/v1/driver-groups`: what a new group needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    pub organisation_id: i32,
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: String,
}

impl From<NewGroup> for GroupIn {
    fn from(g: NewGroup) -> Self {
        Self {
            organisation_id: Some(g.organisation_id),
            name: g.name,
        }
    }
}
