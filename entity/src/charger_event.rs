//! One row of a charger's timeline: a status, event, security event, data transfer or request
//! the charger sent, linked to the command that caused it when there was one.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

use crate::values::EventKind;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "charger_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub charger_id: String,
    pub kind: EventKind,
    /// The one-word gist: a firmware status, an error code, a security event type, ...
    pub status: String,
    /// 2.0.1 `requestId`, when the charger sent one.
    pub request_id: Option<i32>,
    /// The audit row of the command this status follows, when known.
    pub audit_id: Option<i64>,
    pub at: DateTimeUtc,
    /// Where on the charger: EVSE (1.6: connector) and connector, when the message said.
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    /// 2.0.1 device-model component and variable (`name` or `name[instance]`).
    pub component: Option<String>,
    pub variable: Option<String>,
    /// A security event the specs mark critical.
    pub critical: bool,
    /// Everything else the charger said, as it said it (secrets never reach here).
    pub detail: Option<Json>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
