//! Remote commands' bookkeeping: the last firmware and diagnostics status of each charger,
//! and the history of those statuses linked to the audit row of the command that caused them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Charger {
    Table,
    Id,
    FirmwareStatus,
    FirmwareStatusAt,
    FirmwareAuditId,
    DiagnosticsStatus,
    DiagnosticsStatusAt,
    DiagnosticsAuditId,
}

#[derive(DeriveIden)]
enum ChargerEvent {
    Table,
    Id,
    ChargerId,
    Kind,
    Status,
    RequestId,
    AuditId,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            string_null(Charger::FirmwareStatus),
            timestamp_with_time_zone_null(Charger::FirmwareStatusAt),
            big_integer_null(Charger::FirmwareAuditId),
            string_null(Charger::DiagnosticsStatus),
            timestamp_with_time_zone_null(Charger::DiagnosticsStatusAt),
            big_integer_null(Charger::DiagnosticsAuditId),
        ] {
            let mut col = col;
            manager
                .alter_table(Table::alter().table(Charger::Table).add_column(&mut col).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ChargerEvent::Table)
                    .col(big_integer(ChargerEvent::Id).auto_increment().primary_key())
                    .col(string(ChargerEvent::ChargerId))
                    .col(string(ChargerEvent::Kind))
                    .col(string(ChargerEvent::Status))
                    .col(integer_null(ChargerEvent::RequestId))
                    .col(big_integer_null(ChargerEvent::AuditId))
                    .col(timestamp_with_time_zone(ChargerEvent::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ChargerEvent::Table, ChargerEvent::ChargerId)
                            .to(Charger::Table, Charger::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_charger_event_charger")
                    .table(ChargerEvent::Table)
                    .col(ChargerEvent::ChargerId)
                    .col(ChargerEvent::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChargerEvent::Table).to_owned())
            .await?;
        for col in [
            Charger::FirmwareStatus,
            Charger::FirmwareStatusAt,
            Charger::FirmwareAuditId,
            Charger::DiagnosticsStatus,
            Charger::DiagnosticsStatusAt,
            Charger::DiagnosticsAuditId,
        ] {
            manager
                .alter_table(Table::alter().table(Charger::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
