//! Tickets from faults (issue 22): an organisation may have a fault that stays open past a
//! threshold open a maintenance ticket on its charger; the ticket names the fault incident it
//! is about (when it opened), so the clearing closes it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    AutoTickets,
    AutoTicketsAfterS,
}

#[derive(DeriveIden)]
enum Ticket {
    Table,
    FaultSince,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Organisation::Table)
                    .add_column(boolean(Organisation::AutoTickets).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Organisation::Table)
                    .add_column(integer(Organisation::AutoTicketsAfterS).default(900))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Ticket::Table)
                    .add_column(timestamp_with_time_zone_null(Ticket::FaultSince))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Ticket::Table)
                    .drop_column(Ticket::FaultSince)
                    .to_owned(),
            )
            .await?;
        for column in [Organisation::AutoTicketsAfterS, Organisation::AutoTickets] {
            manager
                .alter_table(Table::alter().table(Organisation::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
