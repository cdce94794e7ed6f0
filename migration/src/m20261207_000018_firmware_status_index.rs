//! The dashboard lists the chargers whose firmware update is under way, newest first: an index
//! on the last firmware status finds the few of them without reading every charger (at 100,000
//! chargers that read was most of the root dashboard's time once the counts came from memory).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Charger {
    Table,
    FirmwareStatus,
    FirmwareStatusAt,
}

const INDEX: &str = "idx_charger_firmware_status";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Charger::Table)
                    .col(Charger::FirmwareStatus)
                    .col(Charger::FirmwareStatusAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(INDEX).table(Charger::Table).to_owned())
            .await
    }
}
