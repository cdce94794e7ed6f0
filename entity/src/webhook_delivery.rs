//! One event for one webhook: the body as signed, and how its attempts went.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub webhook_id: i32,
    pub event: String,
    /// What makes it one of a kind per webhook, so no node queues an event twice.
    pub dedupe_key: String,
    pub charger_id: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub state: super::values::DeliveryState,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// A sender is on it until then.
    pub claimed_until: Option<DateTimeUtc>,
    /// The receiver's HTTP status at the last attempt.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
