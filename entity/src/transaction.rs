//! A charging session, from either version.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "transaction")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub charger_id: String,
    /// The charger's organisation when the transaction started.
    pub organisation_id: Option<i32>,
    pub evse_id: i32,
    pub connector_id: i32,
    /// 1.6: the id voltgate assigned (= `id`); 2.0.1: the charger's `transactionId`.
    pub ocpp_transaction_id: String,
    pub id_token: String,
    pub id_token_id: Option<i32>,
    pub started_at: DateTimeUtc,
    pub stopped_at: Option<DateTimeUtc>,
    pub meter_start_wh: Option<i64>,
    pub meter_stop_wh: Option<i64>,
    pub stop_reason: Option<String>,
    /// 2.0.1: the highest TransactionEvent `seqNo` stored, for idempotent resends.
    pub last_seq_no: Option<i32>,
    /// Reported after the fact by a charger that was offline.
    pub offline: bool,
    /// A time the charger reported was implausibly far from ours and the receive time was
    /// stored instead.
    pub clock_skew: bool,
    pub updated_at: DateTimeUtc,
    /// What the token was answered when the transaction started; `None` before this was kept.
    pub id_token_status: Option<super::values::TokenDecision>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
