//! System users as real platforms have them: invitations and password resets, confirmed TOTP
//! two-factor with replay protection and recovery codes, `require_2fa` on organisations, and
//! sessions that say where they came from and what they may do.

use sea_orm_migration::{prelude::*, schema::*};

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisation {
    Table,
    #[sea_orm(iden = "require_2fa")]
    Require2fa,
}

#[derive(DeriveIden)]
enum User {
    Table,
    Id,
    TotpConfirmedAt,
    TotpLastStep,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Scope,
    Address,
}

#[derive(DeriveIden)]
enum Invitation {
    Table,
    Id,
    UserId,
    TokenHash,
    Purpose,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum RecoveryCode {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, SetNull};

        // SQLite takes one column per ALTER TABLE.
        let add = |table: TableRef, col: ColumnDef| Table::alter().table(table).add_column(col).to_owned();
        for alter in [
            add(
                Organisation::Table.into_table_ref(),
                boolean(Organisation::Require2fa).default(false).to_owned(),
            ),
            add(
                User::Table.into_table_ref(),
                timestamp_with_time_zone_null(User::TotpConfirmedAt),
            ),
            add(User::Table.into_table_ref(), big_integer_null(User::TotpLastStep)),
            add(
                ApiToken::Table.into_table_ref(),
                string(ApiToken::Scope).default("full").to_owned(),
            ),
            add(ApiToken::Table.into_table_ref(), string_null(ApiToken::Address)),
        ] {
            manager.alter_table(alter).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Invitation::Table)
                    .col(pk_auto(Invitation::Id))
                    .col(integer(Invitation::UserId))
                    .col(string_uniq(Invitation::TokenHash))
                    .col(string(Invitation::Purpose))
                    .col(integer_null(Invitation::CreatedBy))
                    .col(timestamp_with_time_zone(Invitation::CreatedAt))
                    .col(timestamp_with_time_zone(Invitation::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitation::UsedAt))
                    .foreign_key(&mut fk(
                        (Invitation::Table, Invitation::UserId),
                        (User::Table, User::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (Invitation::Table, Invitation::CreatedBy),
                        (User::Table, User::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_invitation_user", Invitation::Table, &["user_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RecoveryCode::Table)
                    .col(pk_auto(RecoveryCode::Id))
                    .col(integer(RecoveryCode::UserId))
                    .col(string(RecoveryCode::CodeHash))
                    .col(timestamp_with_time_zone_null(RecoveryCode::UsedAt))
                    .foreign_key(&mut fk(
                        (RecoveryCode::Table, RecoveryCode::UserId),
                        (User::Table, User::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_recovery_code_user", RecoveryCode::Table, &["user_id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RecoveryCode::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Invitation::Table).to_owned())
            .await?;
        let drop = |table: TableRef, col: DynIden| Table::alter().table(table).drop_column(col).to_owned();
        for alter in [
            drop(ApiToken::Table.into_table_ref(), ApiToken::Address.into_iden()),
            drop(ApiToken::Table.into_table_ref(), ApiToken::Scope.into_iden()),
            drop(User::Table.into_table_ref(), User::TotpLastStep.into_iden()),
            drop(User::Table.into_table_ref(), User::TotpConfirmedAt.into_iden()),
            drop(
                Organisation::Table.into_table_ref(),
                Organisation::Require2fa.into_iden(),
            ),
        ] {
            manager.alter_table(alter).await?;
        }
        Ok(())
    }
}
