//! E-mail alerts (issue 22): a user may subscribe to a subtree's alert events by e-mail. A
//! subscription is a webhook row whose deliveries go to its subscriber's address instead of a
//! URL, so incidents, debouncing and the delivery log are the webhooks' own.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Webhook {
    Table,
    SubscriberId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Webhook::Table)
                    .add_column(integer_null(Webhook::SubscriberId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_webhook_subscriber")
                    .table(Webhook::Table)
                    .col(Webhook::SubscriberId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_webhook_subscriber")
                    .table(Webhook::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Webhook::Table)
                    .drop_column(Webhook::SubscriberId)
                    .to_owned(),
            )
            .await
    }
}
