//! Driver groups through the gate, with the same rights as drivers: access rules admit a
//! group at a private site.

use entity::driver_group;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Audit, ListQuery, Owned, Result, delete_owned, invalid, listed, owned, saving};
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
    let store = &state.store;
    listed(
        state,
        p,
        Permission::DriversRead,
        q,
        "group.list",
        async |scope, page| store.groups_in(&scope, page).await,
    )
    .await
}

/// One group.
pub async fn get_group(state: &AppState, p: &Principal, id: i32) -> Result<GroupOut> {
    let found = state.store.group(id).await?;
    Ok(owned::<cap::DriversRead, _>(state, p, found, id, "group.read")
        .await?
        .0
        .into())
}

/// Creates (`id` None) or renames a group.
pub async fn save_group(state: &AppState, p: &Principal, id: Option<i32>, input: GroupIn) -> Result<GroupOut> {
    let action = if id.is_some() { "group.update" } else { "group.create" };
    if input.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    let existing = match id {
        Some(id) => Some((id, state.store.group(id).await?)),
        None => None,
    };
    let (existing, auth) = saving::<cap::DriversWrite, _>(state, p, existing, input.organisation_id, action).await?;
    let g = state
        .store
        .save_group(&auth, existing, input.name.trim().to_owned())
        .await?;
    Audit::new(p, action, g.target()).request(json!(input)).ok(state).await;
    Ok(g.into())
}

/// Deletes a group (its tokens stay, ungrouped; its access rules go).
pub async fn delete_group(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let found = state.store.group(id).await?;
    delete_owned::<cap::DriversWrite, _>(state, p, found, id, async |auth, g| {
        state.store.delete_group(auth, g).await
    })
    .await
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
