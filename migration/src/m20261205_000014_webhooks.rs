//! Webhooks (issue 22): per organisation subtree, the events a receiver wants; each delivery
//! kept with its attempts (retried for a day); and the incidents each webhook has announced
//! (a charger offline or faulted), so every incident is opened once and resolved once.

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
enum Webhook {
    Table,
    Id,
    OrganisationId,
    Url,
    Secret,
    Events,
    OfflineAfterS,
    CreatedBy,
    EventCursor,
    CampaignCursor,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDelivery {
    Table,
    Id,
    WebhookId,
    Event,
    DedupeKey,
    ChargerId,
    Body,
    State,
    Attempts,
    NextAttemptAt,
    ClaimedUntil,
    LastStatus,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum AlertIncident {
    Table,
    WebhookId,
    ChargerId,
    Kind,
    OpenedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Webhook::Table)
                    .col(integer(Webhook::Id).auto_increment().primary_key())
                    .col(integer(Webhook::OrganisationId))
                    .col(string(Webhook::Url))
                    .col(string(Webhook::Secret))
                    .col(json(Webhook::Events))
                    .col(integer(Webhook::OfflineAfterS))
                    .col(integer_null(Webhook::CreatedBy))
                    .col(big_integer(Webhook::EventCursor).default(0))
                    .col(timestamp_with_time_zone(Webhook::CampaignCursor))
                    .col(timestamp_with_time_zone(Webhook::CreatedAt))
                    .foreign_key(&mut fk(
                        (Webhook::Table, Webhook::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WebhookDelivery::Table)
                    .col(big_integer(WebhookDelivery::Id).auto_increment().primary_key())
                    .col(integer(WebhookDelivery::WebhookId))
                    .col(string(WebhookDelivery::Event))
                    .col(string(WebhookDelivery::DedupeKey))
                    .col(string_null(WebhookDelivery::ChargerId))
                    .col(text(WebhookDelivery::Body))
                    .col(string(WebhookDelivery::State))
                    .col(integer(WebhookDelivery::Attempts).default(0))
                    .col(timestamp_with_time_zone(WebhookDelivery::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(WebhookDelivery::ClaimedUntil))
                    .col(integer_null(WebhookDelivery::LastStatus))
                    .col(string_null(WebhookDelivery::LastError))
                    .col(timestamp_with_time_zone(WebhookDelivery::CreatedAt))
                    .col(timestamp_with_time_zone_null(WebhookDelivery::DeliveredAt))
                    .foreign_key(&mut fk(
                        (WebhookDelivery::Table, WebhookDelivery::WebhookId),
                        (Webhook::Table, Webhook::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_webhook_delivery_dedupe",
                    WebhookDelivery::Table,
                    &["webhook_id", "dedupe_key"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_webhook_delivery_due",
                WebhookDelivery::Table,
                &["state", "next_attempt_at"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AlertIncident::Table)
                    .col(integer(AlertIncident::WebhookId))
                    .col(string(AlertIncident::ChargerId))
                    .col(string(AlertIncident::Kind))
                    .col(timestamp_with_time_zone(AlertIncident::OpenedAt))
                    .primary_key(
                        Index::create()
                            .col(AlertIncident::WebhookId)
                            .col(AlertIncident::ChargerId)
                            .col(AlertIncident::Kind),
                    )
                    .foreign_key(&mut fk(
                        (AlertIncident::Table, AlertIncident::WebhookId),
                        (Webhook::Table, Webhook::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AlertIncident::Table.into_iden(),
            WebhookDelivery::Table.into_iden(),
            Webhook::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
