//! One attribute of one variable of a charger's device model (2.0.1) or one configuration key
//! (1.6: component `""`), as the charger last reported it. Absent instances are `""`, absent
//! EVSE and connector 0. Values of write-only and secret variables are never stored.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "charger_variable")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub charger_id: String,
    pub component: String,
    pub component_instance: String,
    pub evse_id: i32,
    pub connector_id: i32,
    pub variable: String,
    pub variable_instance: String,
    /// `Actual`, `Target`, `MinSet` or `MaxSet`.
    pub attribute: String,
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
    /// The report (GetBaseReport / GetReport request id) that last carried it.
    pub request_id: Option<i32>,
    pub reported_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
