//! One OCPP exchange with a charger as the message inspector shows it: the CALL and its
//! answer side by side, secrets already replaced. Pruned by age and per charger.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::values::{FrameKind, MessageDirection};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "message_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub charger_id: String,
    /// When the first frame was read or written.
    pub at: DateTimeUtc,
    /// Who sent the first frame.
    pub direction: MessageDirection,
    /// The CALL's action; `None` for a frame that named none (malformed, or an answer to no
    /// outstanding CALL).
    pub action: Option<String>,
    pub message_id: Option<String>,
    /// The first frame as sent, secrets replaced.
    #[sea_orm(column_type = "Text")]
    pub request: String,
    /// Its size on the wire, in bytes.
    pub request_size: i32,
    /// What the answer was, or `Timeout` when none came.
    pub response_type: Option<FrameKind>,
    #[sea_orm(column_type = "Text", nullable)]
    pub response: Option<String>,
    pub response_size: Option<i32>,
    pub responded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
