//! A problem a charger reported and has not cleared yet: a connector error code or faulted
//! status, or a 2.0.1 monitored problem. Clearing deletes the row; the timeline keeps both.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "charger_fault")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub charger_id: String,
    /// 0 for the charger itself.
    pub evse_id: i32,
    /// 0 for the whole EVSE.
    pub connector_id: i32,
    /// What the problem is about, unique per place: `status` for connector status, or the
    /// 2.0.1 `component/variable` that reported it.
    pub key: String,
    /// The error code, tech code or variable that names the problem.
    pub code: String,
    pub info: Option<String>,
    /// The timeline row that opened (or last repeated) it.
    pub event_id: Option<i64>,
    pub opened_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
