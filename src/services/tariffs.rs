//! Tariffs through the gate: the price per kWh of an organisation's subtree, written by
//! those who may write access rules.

use entity::tariff;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Audit, ListQuery, Owned, Result, delete_owned, invalid, listed, saving};
use crate::access::{Permission, Principal, cap};
use crate::state::AppState;

/// No tariff is dearer than this per kWh, in any currency we bill.
const MAX_PRICE_PER_KWH: f64 = 1000.0;

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

/// Tariffs (billing).
pub async fn list_tariffs(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<TariffOut>> {
    let store = &state.store;
    listed(state, p, Permission::Billing, q, "tariff.list", async |scope, page| {
        store.tariffs_in(&scope, page).await
    })
    .await
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
    if id.is_none() && input.price_per_kwh.is_none() {
        return Err(invalid("price_per_kwh", "required"));
    }
    if id.is_none() && input.currency.is_none() {
        return Err(invalid("currency", "required"));
    }
    let existing = match id {
        Some(id) => Some((id, state.store.tariff(id).await?)),
        None => None,
    };
    let (existing, auth) =
        saving::<cap::AccessRulesWrite, _>(state, p, existing, input.organisation_id, action).await?;
    let t = state
        .store
        .save_tariff(&auth, existing, input.price_per_kwh, input.currency.clone())
        .await?;
    Audit::new(p, action, t.target()).request(json!(input)).ok(state).await;
    Ok(t.into())
}

/// Deletes a tariff.
pub async fn delete_tariff(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let found = state.store.tariff(id).await?;
    delete_owned::<cap::AccessRulesWrite, _>(state, p, found, id, async |auth, t| {
        state.store.delete_tariff(auth, t).await
    })
    .await
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
