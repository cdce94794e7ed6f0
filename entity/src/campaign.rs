//! A campaign: one remote command for the chargers a target resolved to, run in stages.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "campaign")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    /// The subtree every charger of the campaign was in when it was created.
    pub organisation_id: i32,
    /// Whose rights each charger's command runs with, read again for every step.
    pub created_by: i32,
    /// The command as asked (`{"kind": ..., ...}`).
    pub command: Json,
    /// The target as asked.
    pub target: Json,
    pub concurrency: i32,
    pub max_failure_ratio: f64,
    pub deadline: Option<DateTimeUtc>,
    pub state: super::values::CampaignState,
    /// Why it paused or ended, when it was not a person's doing.
    pub reason: Option<String>,
    /// Finished and failed steps when it was last resumed: the failure ratio counts from there.
    pub baseline_finished: i32,
    pub baseline_failed: i32,
    /// The process whose lease runs it, and until when.
    pub runner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
