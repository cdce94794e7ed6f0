//! The last reported status of one connector.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// 2.0.1 reports `(evse_id, connector_id)`; a 1.6 connector `n` is stored as `(n, n)` (1.6 has
/// one connector per EVSE, and `0` means the charge point as a whole in both versions).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "connector")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub charger_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub evse_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub connector_id: i32,
    pub status: String,
    /// 1.6 `errorCode` (`NoError`, `GroundFailure`, ...); 2.0.1 reports faults elsewhere.
    pub error_code: Option<String>,
    pub info: Option<String>,
    pub vendor_error_code: Option<String>,
    /// When the charger says the status changed (its timestamp, else when we received it).
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::charger::Entity",
        from = "Column::ChargerId",
        to = "super::charger::Column::Id",
        on_delete = "Cascade"
    )]
    Charger,
}

impl Related<super::charger::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Charger.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
