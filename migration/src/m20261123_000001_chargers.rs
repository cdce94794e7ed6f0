//! Organisation tree, chargers and their connectors: what the OCPP gateway needs.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
    Name,
    ParentId,
    Path,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Charger {
    Table,
    Id,
    OrganisationId,
    PasswordHash,
    OcppVersion,
    Vendor,
    Model,
    Serial,
    FirmwareVersion,
    RegistrationStatus,
    LastSeenAt,
    LastBootAt,
    CreatedAt,
}

// Column names mirror the table, so `Connector::ConnectorId` is intended.
#[allow(clippy::enum_variant_names)]
#[derive(DeriveIden)]
enum Connector {
    Table,
    ChargerId,
    EvseId,
    ConnectorId,
    Status,
    ErrorCode,
    Info,
    VendorErrorCode,
    UpdatedAt,
}

/// Subtree queries compare paths as byte ranges (`path >= '/1/4/' AND path < '/1/40'`); a
/// linguistic collation (en_US on PostgreSQL) ignores the slashes and breaks that, so the
/// column is byte-ordered everywhere (SQLite's default BINARY already is).
fn path_column(manager: &SchemaManager) -> ColumnDef {
    let mut col = string(Organisation::Path);
    if manager.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        col.extra("COLLATE \"C\"");
    }
    col
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organisation::Table)
                    .col(pk_auto(Organisation::Id))
                    .col(string(Organisation::Name))
                    .col(integer_null(Organisation::ParentId))
                    .col(path_column(manager))
                    .col(timestamp_with_time_zone(Organisation::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Organisation::Table, Organisation::ParentId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organisation_path")
                    .table(Organisation::Table)
                    .col(Organisation::Path)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_organisation_parent")
                    .table(Organisation::Table)
                    .col(Organisation::ParentId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Charger::Table)
                    .col(string(Charger::Id).primary_key())
                    .col(integer_null(Charger::OrganisationId))
                    .col(string_null(Charger::PasswordHash))
                    .col(string_null(Charger::OcppVersion))
                    .col(string_null(Charger::Vendor))
                    .col(string_null(Charger::Model))
                    .col(string_null(Charger::Serial))
                    .col(string_null(Charger::FirmwareVersion))
                    .col(string(Charger::RegistrationStatus))
                    .col(timestamp_with_time_zone_null(Charger::LastSeenAt))
                    .col(timestamp_with_time_zone_null(Charger::LastBootAt))
                    .col(timestamp_with_time_zone(Charger::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Charger::Table, Charger::OrganisationId)
                            .to(Organisation::Table, Organisation::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_charger_organisation")
                    .table(Charger::Table)
                    .col(Charger::OrganisationId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Connector::Table)
                    .col(string(Connector::ChargerId))
                    .col(integer(Connector::EvseId))
                    .col(integer(Connector::ConnectorId))
                    .col(string(Connector::Status))
                    .col(string_null(Connector::ErrorCode))
                    .col(string_null(Connector::Info))
                    .col(string_null(Connector::VendorErrorCode))
                    .col(timestamp_with_time_zone(Connector::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(Connector::ChargerId)
                            .col(Connector::EvseId)
                            .col(Connector::ConnectorId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Connector::Table, Connector::ChargerId)
                            .to(Charger::Table, Charger::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Connector::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Charger::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Organisation::Table).to_owned())
            .await
    }
}
