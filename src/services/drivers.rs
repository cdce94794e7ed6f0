//! Drivers through the gate: operators and fleet managers write them, support reads them,
//! maintenance sees none (403 inside, 404 outside).

use entity::driver;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Audit, ListQuery, Result, Target, gate, invalid, list_scope, named_organisation, owned, required};
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
    let scope = list_scope(state, p, Permission::DriversRead, q, "driver.list").await?;
    Ok(state
        .store
        .drivers_in(&scope, q.page()?)
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// One driver.
pub async fn get_driver(state: &AppState, p: &Principal, id: i32) -> Result<DriverOut> {
    let found = state.store.driver(id).await?;
    let (d, _) = owned::<cap::DriversRead, _>(state, p, found, id, "driver.read").await?;
    Ok(d.into())
}

/// Creates (`id` None) or changes a driver.
pub async fn save_driver(state: &AppState, p: &Principal, id: Option<i32>, input: DriverIn) -> Result<DriverOut> {
    let action = if id.is_some() { "driver.update" } else { "driver.create" };
    super::non_blank("name", input.name.as_deref())?;
    let (existing, auth) = match id {
        Some(id) => {
            let found = state.store.driver(id).await?;
            let (d, auth) = owned::<cap::DriversWrite, _>(state, p, found, id, action).await?;
            (Some(d), auth)
        }
        None => {
            let org =
                named_organisation(state, p, required(&input.organisation_id, "organisation_id")?, action).await?;
            if input.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
                return Err(invalid("name", "must not be empty"));
            }
            (
                None,
                gate::<cap::DriversWrite>(state, p, &org, action, Target::new("driver").org(org.id)).await?,
            )
        }
    };
    let d = state
        .store
        .save_driver(&auth, existing, input.name.clone(), input.email.clone())
        .await?;
    Audit::new(
        p,
        action,
        Target::new(format!("driver:{}", d.id)).org(d.organisation_id),
    )
    .request(json!(input))
    .ok(state)
    .await;
    Ok(d.into())
}

/// Deletes a driver.
pub async fn delete_driver(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let found = state.store.driver(id).await?;
    let (d, auth) = owned::<cap::DriversWrite, _>(state, p, found, id, "driver.delete").await?;
    state.store.delete_driver(&auth, &d).await?;
    Audit::new(
        p,
        "driver.delete",
        Target::new(format!("driver:{id}")).org(d.organisation_id),
    )
    .ok(state)
    .await;
    Ok(())
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
