//! A charger's security lifecycle: when its password was set, the passwords offered to it that
//! it has not yet been seen using (any of them is accepted until it is), and the certificate
//! voltgate's CA issued it (serial, expiry, when a renewal was last asked for), and the
//! security profile it was asked to move to and has not yet connected on.

use sea_orm_migration::{prelude::*, schema::*};

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Charger {
    Table,
    Id,
    PasswordChangedAt,
    CertificateSerial,
    CertificateExpiresAt,
    CertificateRequestedAt,
    SecurityProfilePending,
}

#[derive(DeriveIden)]
enum ChargerPasswordOffer {
    Table,
    Id,
    ChargerId,
    PasswordHash,
    State,
    OfferedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one new column per ALTER TABLE.
        for column in [
            timestamp_with_time_zone_null(Charger::PasswordChangedAt),
            string_null(Charger::CertificateSerial),
            timestamp_with_time_zone_null(Charger::CertificateExpiresAt),
            timestamp_with_time_zone_null(Charger::CertificateRequestedAt),
            integer_null(Charger::SecurityProfilePending),
        ] {
            manager
                .alter_table(Table::alter().table(Charger::Table).add_column(column).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ChargerPasswordOffer::Table)
                    .col(big_integer(ChargerPasswordOffer::Id).auto_increment().primary_key())
                    .col(string(ChargerPasswordOffer::ChargerId))
                    .col(string(ChargerPasswordOffer::PasswordHash))
                    .col(string(ChargerPasswordOffer::State))
                    .col(timestamp_with_time_zone(ChargerPasswordOffer::OfferedAt))
                    .foreign_key(&mut fk(
                        (ChargerPasswordOffer::Table, ChargerPasswordOffer::ChargerId),
                        (Charger::Table, Charger::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_charger_password_offer_charger",
                ChargerPasswordOffer::Table,
                &["charger_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ChargerPasswordOffer::Table).to_owned())
            .await?;
        for column in [
            Charger::PasswordChangedAt,
            Charger::CertificateSerial,
            Charger::CertificateExpiresAt,
            Charger::CertificateRequestedAt,
            Charger::SecurityProfilePending,
        ] {
            manager
                .alter_table(Table::alter().table(Charger::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
