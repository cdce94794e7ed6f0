//! Time-bounded memberships (`valid_from`, `valid_until`, and whether the expiry is audited
//! yet) and `message_log`, the OCPP conversation per charger for the message inspector.

use sea_orm_migration::{prelude::*, schema::*};

use crate::util::index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Membership {
    Table,
    ValidFrom,
    ValidUntil,
    ExpiryAudited,
}

#[derive(DeriveIden)]
enum MessageLog {
    Table,
    Id,
    ChargerId,
    At,
    Direction,
    Action,
    MessageId,
    Request,
    RequestSize,
    ResponseType,
    Response,
    ResponseSize,
    RespondedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite takes one new column per ALTER TABLE.
        for column in [
            timestamp_with_time_zone_null(Membership::ValidFrom),
            timestamp_with_time_zone_null(Membership::ValidUntil),
            boolean(Membership::ExpiryAudited).default(false).take(),
        ] {
            manager
                .alter_table(Table::alter().table(Membership::Table).add_column(column).to_owned())
                .await?;
        }
        // No foreign key to charger: frames of a connection that is not (yet) a registered
        // charger are logged too, and one bad row must not fail a whole batch.
        manager
            .create_table(
                Table::create()
                    .table(MessageLog::Table)
                    .col(big_integer(MessageLog::Id).auto_increment().primary_key())
                    .col(string(MessageLog::ChargerId))
                    .col(timestamp_with_time_zone(MessageLog::At))
                    .col(string(MessageLog::Direction))
                    .col(string_null(MessageLog::Action))
                    .col(string_null(MessageLog::MessageId))
                    .col(text(MessageLog::Request))
                    .col(integer(MessageLog::RequestSize))
                    .col(string_null(MessageLog::ResponseType))
                    .col(text_null(MessageLog::Response))
                    .col(integer_null(MessageLog::ResponseSize))
                    .col(timestamp_with_time_zone_null(MessageLog::RespondedAt))
                    .to_owned(),
            )
            .await?;
        // No index on `at`: pruning by age walks the primary key (ids grow with time), and
        // every index is one more write on the busiest insert voltgate has.
        manager
            .create_index(index(
                "idx_message_log_charger",
                MessageLog::Table,
                &["charger_id", "id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MessageLog::Table).to_owned())
            .await?;
        for column in [Membership::ValidFrom, Membership::ValidUntil, Membership::ExpiryAudited] {
            manager
                .alter_table(Table::alter().table(Membership::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
