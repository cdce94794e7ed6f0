//! A firmware or diagnostics status a charger reported, linked to the command that caused it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "charger_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub charger_id: String,
    /// `firmware` or `diagnostics` (1.6 diagnostics and 2.0.1 log uploads alike).
    pub kind: String,
    pub status: String,
    /// 2.0.1 `requestId`, when the charger sent one.
    pub request_id: Option<i32>,
    /// The audit row of the command this status follows, when known.
    pub audit_id: Option<i64>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
