//! The message log packed (issue 23's cost): one row per charger and writer batch, holding
//! that charger's exchanges of the batch, instead of one row per exchange. Under a flood a row
//! holds several exchanges, so the busiest insert voltgate has writes a fraction of the rows
//! and index entries. The per-exchange table goes with what it held (a diagnostic log kept a
//! week at most).

use sea_orm_migration::{prelude::*, schema::*};

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum MessagePage {
    Table,
    Id,
    ChargerId,
    FirstAt,
    LastAt,
    Count,
    Body,
}

#[derive(DeriveIden)]
enum MessageLog {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MessagePage::Table)
                    .col(big_integer(MessagePage::Id).auto_increment().primary_key())
                    .col(string(MessagePage::ChargerId))
                    .col(timestamp_with_time_zone(MessagePage::FirstAt))
                    .col(timestamp_with_time_zone(MessagePage::LastAt))
                    .col(integer(MessagePage::Count))
                    .col(text(MessagePage::Body))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_message_page_charger",
                MessagePage::Table,
                &["charger_id", "id"],
            ))
            .await?;
        manager
            .drop_table(Table::drop().table(MessageLog::Table).if_exists().to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MessagePage::Table).to_owned())
            .await
    }
}
