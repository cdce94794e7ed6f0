//! Each charger's own security profile (1 Basic auth, 2 TLS + Basic auth, 3 TLS client
//! certificate); `NULL` follows `ocpp.security_profile`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Charger {
    Table,
    SecurityProfile,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Charger::Table)
                    .add_column(integer_null(Charger::SecurityProfile))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Charger::Table)
                    .drop_column(Charger::SecurityProfile)
                    .to_owned(),
            )
            .await
    }
}
