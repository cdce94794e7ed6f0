//! Campaigns (issue 22): one remote command for many chargers, staged. A campaign row holds
//! the command, its target as asked, its limits and which process runs it (a lease, so a
//! cluster runs it once and a dead node's campaign is taken over); one row per charger the
//! target resolved to through the gate records how far that charger's command got.

use sea_orm_migration::{prelude::*, schema::*};

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Charger {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
    Name,
    OrganisationId,
    CreatedBy,
    Command,
    Target,
    Concurrency,
    MaxFailureRatio,
    Deadline,
    State,
    Reason,
    BaselineFinished,
    BaselineFailed,
    Runner,
    LeaseUntil,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum CampaignCharger {
    Table,
    CampaignId,
    ChargerId,
    State,
    AuditId,
    Answer,
    StatusInfo,
    Detail,
    StartedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Campaign::Table)
                    .col(integer(Campaign::Id).auto_increment().primary_key())
                    .col(string(Campaign::Name))
                    .col(integer(Campaign::OrganisationId))
                    .col(integer(Campaign::CreatedBy))
                    .col(json(Campaign::Command))
                    .col(json(Campaign::Target))
                    .col(integer(Campaign::Concurrency))
                    .col(double(Campaign::MaxFailureRatio))
                    .col(timestamp_with_time_zone_null(Campaign::Deadline))
                    .col(string(Campaign::State))
                    .col(string_null(Campaign::Reason))
                    .col(integer(Campaign::BaselineFinished).default(0))
                    .col(integer(Campaign::BaselineFailed).default(0))
                    .col(string_null(Campaign::Runner))
                    .col(timestamp_with_time_zone_null(Campaign::LeaseUntil))
                    .col(timestamp_with_time_zone(Campaign::CreatedAt))
                    .col(timestamp_with_time_zone(Campaign::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Campaign::FinishedAt))
                    .foreign_key(&mut fk(
                        (Campaign::Table, Campaign::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_campaign_state", Campaign::Table, &["state"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CampaignCharger::Table)
                    .col(integer(CampaignCharger::CampaignId))
                    .col(string(CampaignCharger::ChargerId))
                    .col(string(CampaignCharger::State))
                    .col(big_integer_null(CampaignCharger::AuditId))
                    .col(string_null(CampaignCharger::Answer))
                    .col(string_null(CampaignCharger::StatusInfo))
                    .col(string_null(CampaignCharger::Detail))
                    .col(timestamp_with_time_zone_null(CampaignCharger::StartedAt))
                    .col(timestamp_with_time_zone(CampaignCharger::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(CampaignCharger::CampaignId)
                            .col(CampaignCharger::ChargerId),
                    )
                    .foreign_key(&mut fk(
                        (CampaignCharger::Table, CampaignCharger::CampaignId),
                        (Campaign::Table, Campaign::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (CampaignCharger::Table, CampaignCharger::ChargerId),
                        (Charger::Table, Charger::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_campaign_charger_state",
                CampaignCharger::Table,
                &["campaign_id", "state"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [CampaignCharger::Table.into_iden(), Campaign::Table.into_iden()] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
