//! One sampled value.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "meter_value")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub transaction_id: Option<i32>,
    pub charger_id: String,
    pub evse_id: i32,
    pub at: DateTimeUtc,
    pub measurand: String,
    pub value: f64,
    pub unit: Option<String>,
    pub phase: Option<String>,
    pub context: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
