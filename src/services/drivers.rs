//! Drivers through the gate: operators and fleet managers write them, support reads them,
//! maintenance sees none (403 inside, 404 outside).

use entity::driver;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Audit, ListQuery, Owned, Result, delete_owned, invalid, listed, owned, saving};
use crate::access::{Permission, Principal, cap};
use crate::state::AppState;

/// A driver as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DriverOut {
    pub id: i32,
    pub organisation_id: i32,
    pub name: String,
    pub email: Option<String>,
}

impl From<driver::Model> for DriverOut {
    fn from(d: driver::Model) -> Self {
        Self {
            id: d.id,
            organisation_id: d.organisation_id,
            name: d.name,
            email: d.email,
        }
    }
}

/// `POST /api/v1/drivers` and `PATCH /api/v1/drivers/{id}`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverIn {
    /// Required on create.
    pub organisation_id: Option<i32>,
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
}

/// Drivers the caller may read.
pub async fn list_drivers(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<DriverOut>> {
    let store = &state.store;
    listed(
        state,
        p,
        Permission::DriversRead,
        q,
        "driver.list",
        async |scope, page| store.drivers_in(&scope, page).await,
    )
    .await
}

/// One driver.
pub async fn get_driver(state: &AppState, p: &Principal, id: i32) -> Result<DriverOut> {
    let found = state.store.driver(id).await?;
    Ok(owned::<cap::DriversRead, _>(state, p, found, id, "driver.read")
        .await?
        .0
        .into())
}

/// Creates (`id` None) or changes a driver.
pub async fn save_driver(state: &AppState, p: &Principal, id: Option<i32>, input: DriverIn) -> Result<DriverOut> {
    let action = if id.is_some() { "driver.update" } else { "driver.create" };
    super::non_blank("name", input.name.as_deref())?;
    if id.is_none() && input.name.is_none() {
        return Err(invalid("name", "required"));
    }
    let existing = match id {
        Some(id) => Some((id, state.store.driver(id).await?)),
        None => None,
    };
    let (existing, auth) = saving::<cap::DriversWrite, _>(state, p, existing, input.organisation_id, action).await?;
    let d = state
        .store
        .save_driver(&auth, existing, input.name.clone(), input.email.clone())
        .await?;
    Audit::new(p, action, d.target()).request(json!(input)).ok(state).await;
    Ok(d.into())
}

/// Deletes a driver (its tokens stay, unassigned).
pub async fn delete_driver(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let found = state.store.driver(id).await?;
    delete_owned::<cap::DriversWrite, _>(state, p, found, id, async |auth, d| {
        state.store.delete_driver(auth, d).await
    })
    .await
}

/// `POST /api/v1/drivers`: what a new driver needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDriver {
    pub organisation_id: i32,
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: String,
    pub email: Option<String>,
}

impl From<NewDriver> for DriverIn {
    fn from(d: NewDriver) -> Self {
        Self {
            organisation_id: Some(d.organisation_id),
            name: Some(d.name),
            email: Some(d.email),
        }
    }
}
