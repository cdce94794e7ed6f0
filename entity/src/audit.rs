//! One audited action: every write and every refused attempt.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    /// `None` for the platform admin acting through the CLI.
    pub user_id: Option<i32>,
    pub action: String,
    pub organisation_id: Option<i32>,
    pub charger_id: Option<String>,
    pub resource: Option<String>,
    pub request: Option<Json>,
    /// `ok`, `denied`, `failed`, or a command outcome (`pending`, `Accepted`, ...).
    pub outcome: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
