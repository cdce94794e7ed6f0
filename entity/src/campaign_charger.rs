//! One charger of a campaign: how far its command got and what the charger answered.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "campaign_charger")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub charger_id: String,
    pub state: super::values::CampaignStepState,
    /// The command's audit row, once it was sent.
    pub audit_id: Option<i64>,
    /// The charger's answer (`Accepted`, `Rejected`, ...) or, for firmware, its last status.
    pub answer: Option<String>,
    /// The charger's reason with its answer (2.0.1 statusInfo).
    pub status_info: Option<String>,
    /// What went wrong when there was no answer (offline at the deadline, CALLERROR, timeout).
    pub detail: Option<String>,
    pub started_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
