//! The whole conversation of a charger: `charger_event` gains where an event happened and what
//! else the charger said, `charger_fault` holds the problems still open, and a transaction
//! keeps what its token was answered when it started.

use sea_orm_migration::{prelude::*, schema::*};

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Charger {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ChargerEvent {
    Table,
    EvseId,
    ConnectorId,
    Component,
    Variable,
    Critical,
    Detail,
}

#[derive(DeriveIden)]
enum Transaction {
    Table,
    IdTokenStatus,
}

#[derive(DeriveIden)]
enum ChargerFault {
    Table,
    Id,
    ChargerId,
    EvseId,
    ConnectorId,
    Key,
    Code,
    Info,
    EventId,
    OpenedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for col in [
            integer_null(ChargerEvent::EvseId),
            integer_null(ChargerEvent::ConnectorId),
            string_null(ChargerEvent::Component),
            string_null(ChargerEvent::Variable),
            boolean(ChargerEvent::Critical).default(false).to_owned(),
            json_null(ChargerEvent::Detail),
        ] {
            let mut col = col;
            manager
                .alter_table(
                    Table::alter()
                        .table(ChargerEvent::Table)
                        .add_column(&mut col)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Transaction::Table)
                    .add_column(string_null(Transaction::IdTokenStatus))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChargerFault::Table)
                    .col(big_integer(ChargerFault::Id).auto_increment().primary_key())
                    .col(string(ChargerFault::ChargerId))
                    .col(integer(ChargerFault::EvseId))
                    .col(integer(ChargerFault::ConnectorId))
                    .col(string(ChargerFault::Key))
                    .col(string(ChargerFault::Code))
                    .col(string_null(ChargerFault::Info))
                    .col(big_integer_null(ChargerFault::EventId))
                    .col(timestamp_with_time_zone(ChargerFault::OpenedAt))
                    .foreign_key(&mut fk(
                        (ChargerFault::Table, ChargerFault::ChargerId),
                        (Charger::Table, Charger::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        // One open fault per problem and place: a repeated report updates it.
        manager
            .create_index(
                index(
                    "idx_charger_fault_place",
                    ChargerFault::Table,
                    &["charger_id", "evse_id", "connector_id", "key"],
                )
                .unique()
                .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChargerFault::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Transaction::Table)
                    .drop_column(Transaction::IdTokenStatus)
                    .to_owned(),
            )
            .await?;
        for col in [
            ChargerEvent::EvseId,
            ChargerEvent::ConnectorId,
            ChargerEvent::Component,
            ChargerEvent::Variable,
            ChargerEvent::Critical,
            ChargerEvent::Detail,
        ] {
            manager
                .alter_table(Table::alter().table(ChargerEvent::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
