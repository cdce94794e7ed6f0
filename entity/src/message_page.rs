//! A page of one charger's OCPP exchanges for the message inspector: those the log's writer
//! gathered for the charger in one batch (about a second), packed into one row with their
//! secrets already replaced. A row per page rather than per exchange keeps the log cheap
//! under a flood; the store packs and unpacks (`store::message_log`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "message_page")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub charger_id: String,
    /// When its oldest and newest exchanges started.
    pub first_at: DateTimeUtc,
    pub last_at: DateTimeUtc,
    /// How many exchanges it holds.
    pub count: i32,
    /// The exchanges, oldest first, as a JSON array (the store's packed form).
    #[sea_orm(column_type = "Text")]
    pub body: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
