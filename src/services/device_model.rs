//! A charger's stored device model (2.0.1) or configuration inventory (1.6), for whoever may
//! read the charger. Reports are asked for through `commands` (`POST .../report`).

use chrono::{DateTime, Utc};
use entity::charger_variable;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Result;
use super::chargers::visible_charger;
use crate::access::Principal;
use crate::state::AppState;
use crate::store::VariableFilter;

/// One attribute of a variable as the charger last reported it.
#[derive(Debug, Serialize, ToSchema)]
pub struct VariableOut {
    /// 2.0.1 component; `""` for a 1.6 configuration key.
    pub component: String,
    pub component_instance: Option<String>,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    pub variable: String,
    pub variable_instance: Option<String>,
    /// `Actual`, `Target`, `MinSet` or `MaxSet`.
    pub attribute: String,
    /// `null` for write-only and secret variables, which are never stored.
    pub value: Option<String>,
    /// `ReadOnly`, `WriteOnly` or `ReadWrite`.
    pub mutability: Option<String>,
    pub persistent: Option<bool>,
    pub constant: Option<bool>,
    pub unit: Option<String>,
    pub data_type: Option<String>,
    pub min_limit: Option<f64>,
    pub max_limit: Option<f64>,
    pub values_list: Option<String>,
    pub supports_monitoring: Option<bool>,
    /// The request id of the report that carried it (the audit row of `POST .../report`).
    pub request_id: Option<i32>,
    pub reported_at: DateTime<Utc>,
}

fn present(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

impl From<charger_variable::Model> for VariableOut {
    fn from(v: charger_variable::Model) -> Self {
        Self {
            component: v.component,
            component_instance: present(v.component_instance),
            evse_id: (v.evse_id != 0).then_some(v.evse_id),
            connector_id: (v.connector_id != 0).then_some(v.connector_id),
            variable: v.variable,
            variable_instance: present(v.variable_instance),
            attribute: v.attribute,
            value: v.value,
            mutability: v.mutability,
            persistent: v.persistent,
            constant: v.constant,
            unit: v.unit,
            data_type: v.data_type,
            min_limit: v.min_limit,
            max_limit: v.max_limit,
            values_list: v.values_list,
            supports_monitoring: v.supports_monitoring,
            request_id: v.request_id,
            reported_at: v.reported_at,
        }
    }
}

/// `GET /api/v1/chargers/{id}/variables` filters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VariableQuery {
    /// Only this component (`""`: 1.6 configuration keys).
    pub component: Option<String>,
    /// Only this variable (1.6: key).
    pub variable: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub offset: Option<u64>,
}

/// A charger's stored variables, by component, EVSE, connector and variable.
pub async fn variables(state: &AppState, p: &Principal, id: &str, q: &VariableQuery) -> Result<Vec<VariableOut>> {
    let (c, _) = visible_charger(state, p, id, "charger.variables").await?;
    let page = super::page(q.limit, q.offset)?;
    let filter = VariableFilter {
        component: q.component.clone(),
        variable: q.variable.clone(),
    };
    let rows = state.store.variables(&c.id, &filter, page).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}
