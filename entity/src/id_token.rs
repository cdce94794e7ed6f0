//! An RFID card or other id token. `root_id` is its organisation tree's root: values are unique per tree.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "id_token")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub token: String,
    /// `ISO14443` (RFID), `ISO15693`, `Central`, `eMAID`, `KeyCode`, `Local`, `MacAddress`.
    pub kind: super::values::TokenKind,
    pub organisation_id: i32,
    pub root_id: i32,
    pub driver_id: Option<i32>,
    pub group_id: Option<i32>,
    pub status: super::values::TokenStatus,
    pub expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
