//! Drivers, groups, RFID/id tokens, access rules, tariffs, transactions and meter values.

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
enum Site {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Charger {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Driver {
    Table,
    Id,
    OrganisationId,
    Name,
    Email,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DriverGroup {
    Table,
    Id,
    OrganisationId,
    Name,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IdToken {
    Table,
    Id,
    Token,
    Kind,
    OrganisationId,
    RootId,
    DriverId,
    GroupId,
    Status,
    ExpiresAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AccessRule {
    Table,
    Id,
    SiteId,
    GroupId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tariff {
    Table,
    Id,
    OrganisationId,
    PricePerKwh,
    Currency,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Transaction {
    Table,
    Id,
    ChargerId,
    OrganisationId,
    EvseId,
    ConnectorId,
    OcppTransactionId,
    IdToken,
    IdTokenId,
    StartedAt,
    StoppedAt,
    MeterStartWh,
    MeterStopWh,
    StopReason,
    LastSeqNo,
    Offline,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MeterValue {
    Table,
    Id,
    TransactionId,
    ChargerId,
    EvseId,
    At,
    Measurand,
    Value,
    Unit,
    Phase,
    Context,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};
        manager
            .create_table(
                Table::create()
                    .table(Driver::Table)
                    .col(pk_auto(Driver::Id))
                    .col(integer(Driver::OrganisationId))
                    .col(string(Driver::Name))
                    .col(string_null(Driver::Email))
                    .col(timestamp_with_time_zone(Driver::CreatedAt))
                    .foreign_key(&mut fk(
                        (Driver::Table, Driver::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_driver_organisation", Driver::Table, &["organisation_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DriverGroup::Table)
                    .col(pk_auto(DriverGroup::Id))
                    .col(integer(DriverGroup::OrganisationId))
                    .col(string(DriverGroup::Name))
                    .col(timestamp_with_time_zone(DriverGroup::CreatedAt))
                    .foreign_key(&mut fk(
                        (DriverGroup::Table, DriverGroup::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_driver_group_organisation",
                DriverGroup::Table,
                &["organisation_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(IdToken::Table)
                    .col(pk_auto(IdToken::Id))
                    .col(string(IdToken::Token))
                    .col(string(IdToken::Kind))
                    .col(integer(IdToken::OrganisationId))
                    .col(integer(IdToken::RootId))
                    .col(integer_null(IdToken::DriverId))
                    .col(integer_null(IdToken::GroupId))
                    .col(string(IdToken::Status))
                    .col(timestamp_with_time_zone_null(IdToken::ExpiresAt))
                    .col(timestamp_with_time_zone(IdToken::CreatedAt))
                    .foreign_key(&mut fk(
                        (IdToken::Table, IdToken::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        (IdToken::Table, IdToken::DriverId),
                        (Driver::Table, Driver::Id),
                        SetNull,
                    ))
                    .foreign_key(&mut fk(
                        (IdToken::Table, IdToken::GroupId),
                        (DriverGroup::Table, DriverGroup::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        // Token values are unique per organisation tree (root).
        manager
            .create_index(
                index("idx_id_token_root_token", IdToken::Table, &["root_id", "token"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_id_token_organisation", IdToken::Table, &["organisation_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AccessRule::Table)
                    .col(pk_auto(AccessRule::Id))
                    .col(integer(AccessRule::SiteId))
                    .col(integer(AccessRule::GroupId))
                    .col(timestamp_with_time_zone(AccessRule::CreatedAt))
                    .foreign_key(&mut fk(
                        (AccessRule::Table, AccessRule::SiteId),
                        (Site::Table, Site::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (AccessRule::Table, AccessRule::GroupId),
                        (DriverGroup::Table, DriverGroup::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_access_rule_site_group",
                    AccessRule::Table,
                    &["site_id", "group_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tariff::Table)
                    .col(pk_auto(Tariff::Id))
                    .col(integer(Tariff::OrganisationId))
                    .col(double(Tariff::PricePerKwh))
                    .col(string(Tariff::Currency))
                    .col(timestamp_with_time_zone(Tariff::CreatedAt))
                    .foreign_key(&mut fk(
                        (Tariff::Table, Tariff::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_tariff_organisation", Tariff::Table, &["organisation_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Transaction::Table)
                    .col(pk_auto(Transaction::Id))
                    .col(string(Transaction::ChargerId))
                    .col(integer_null(Transaction::OrganisationId))
                    .col(integer(Transaction::EvseId))
                    .col(integer(Transaction::ConnectorId))
                    .col(string(Transaction::OcppTransactionId))
                    .col(string(Transaction::IdToken))
                    .col(integer_null(Transaction::IdTokenId))
                    .col(timestamp_with_time_zone(Transaction::StartedAt))
                    .col(timestamp_with_time_zone_null(Transaction::StoppedAt))
                    .col(big_integer_null(Transaction::MeterStartWh))
                    .col(big_integer_null(Transaction::MeterStopWh))
                    .col(string_null(Transaction::StopReason))
                    .col(integer_null(Transaction::LastSeqNo))
                    .col(boolean(Transaction::Offline).default(false))
                    .col(timestamp_with_time_zone(Transaction::UpdatedAt))
                    .foreign_key(&mut fk(
                        (Transaction::Table, Transaction::ChargerId),
                        (Charger::Table, Charger::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (Transaction::Table, Transaction::IdTokenId),
                        (IdToken::Table, IdToken::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_transaction_charger_ocpp",
                    Transaction::Table,
                    &["charger_id", "ocpp_transaction_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_transaction_organisation",
                Transaction::Table,
                &["organisation_id", "started_at"],
            ))
            .await?;
        manager
            .create_index(index("idx_transaction_token", Transaction::Table, &["id_token_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(MeterValue::Table)
                    .col(big_integer(MeterValue::Id).auto_increment().primary_key())
                    .col(integer_null(MeterValue::TransactionId))
                    .col(string(MeterValue::ChargerId))
                    .col(integer(MeterValue::EvseId))
                    .col(timestamp_with_time_zone(MeterValue::At))
                    .col(string(MeterValue::Measurand))
                    .col(double(MeterValue::Value))
                    .col(string_null(MeterValue::Unit))
                    .col(string_null(MeterValue::Phase))
                    .col(string_null(MeterValue::Context))
                    .foreign_key(&mut fk(
                        (MeterValue::Table, MeterValue::TransactionId),
                        (Transaction::Table, Transaction::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (MeterValue::Table, MeterValue::ChargerId),
                        (Charger::Table, Charger::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_meter_value_transaction",
                MeterValue::Table,
                &["transaction_id", "at"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MeterValue::Table.into_iden(),
            Transaction::Table.into_iden(),
            Tariff::Table.into_iden(),
            AccessRule::Table.into_iden(),
            IdToken::Table.into_iden(),
            DriverGroup::Table.into_iden(),
            Driver::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
