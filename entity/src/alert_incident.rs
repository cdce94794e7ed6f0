//! An incident a webhook was told has opened (a charger offline or faulted) and not yet that
//! it was resolved.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "alert_incident")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub webhook_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub charger_id: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: super::values::IncidentKind,
    pub opened_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
