//! Users, memberships, API tokens, sites, tickets and the audit log: what access control and
//! the back-office API need.

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
enum Charger {
    Table,
    Id,
    SiteId,
}

#[derive(DeriveIden)]
enum User {
    Table,
    Id,
    Username,
    Email,
    PasswordHash,
    TotpSecret,
    OrganisationId,
    Disabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    Id,
    UserId,
    OrganisationId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    UserId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Site {
    Table,
    Id,
    OrganisationId,
    Name,
    Address,
    Kind,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Ticket {
    Table,
    Id,
    OrganisationId,
    ChargerId,
    Title,
    Body,
    Status,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TicketComment {
    Table,
    Id,
    TicketId,
    UserId,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Audit {
    Table,
    Id,
    At,
    UserId,
    Action,
    OrganisationId,
    ChargerId,
    Resource,
    Request,
    Outcome,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use ForeignKeyAction::{Cascade, Restrict, SetNull};

        manager
            .create_table(
                Table::create()
                    .table(User::Table)
                    .col(pk_auto(User::Id))
                    .col(string_uniq(User::Username))
                    .col(string_null(User::Email))
                    .col(string_null(User::PasswordHash))
                    .col(string_null(User::TotpSecret))
                    .col(integer(User::OrganisationId))
                    .col(boolean(User::Disabled).default(false))
                    .col(timestamp_with_time_zone(User::CreatedAt))
                    .foreign_key(&mut fk(
                        (User::Table, User::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_user_organisation", User::Table, &["organisation_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Membership::Table)
                    .col(pk_auto(Membership::Id))
                    .col(integer(Membership::UserId))
                    .col(integer(Membership::OrganisationId))
                    .col(string(Membership::Role))
                    .col(timestamp_with_time_zone(Membership::CreatedAt))
                    .foreign_key(&mut fk(
                        (Membership::Table, Membership::UserId),
                        (User::Table, User::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (Membership::Table, Membership::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "idx_membership_unique",
                    Membership::Table,
                    &["user_id", "organisation_id", "role"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_membership_organisation",
                Membership::Table,
                &["organisation_id"],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ApiToken::Table)
                    .col(pk_auto(ApiToken::Id))
                    .col(integer(ApiToken::UserId))
                    .col(string_uniq(ApiToken::TokenHash))
                    .col(timestamp_with_time_zone(ApiToken::CreatedAt))
                    .col(timestamp_with_time_zone(ApiToken::ExpiresAt))
                    .foreign_key(&mut fk(
                        (ApiToken::Table, ApiToken::UserId),
                        (User::Table, User::Id),
                        Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_api_token_user", ApiToken::Table, &["user_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Site::Table)
                    .col(pk_auto(Site::Id))
                    .col(integer(Site::OrganisationId))
                    .col(string(Site::Name))
                    .col(string_null(Site::Address))
                    .col(string(Site::Kind))
                    .col(timestamp_with_time_zone(Site::CreatedAt))
                    .foreign_key(&mut fk(
                        (Site::Table, Site::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_site_organisation", Site::Table, &["organisation_id"]))
            .await?;

        manager
            .alter_table(
                Table::alter()
                    .table(Charger::Table)
                    .add_column(integer_null(Charger::SiteId))
                    .to_owned(),
            )
            .await?;
        // SQLite cannot add a foreign key to an existing table; the store checks site ids.
        manager
            .create_index(index("idx_charger_site", Charger::Table, &["site_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Ticket::Table)
                    .col(pk_auto(Ticket::Id))
                    .col(integer(Ticket::OrganisationId))
                    .col(string_null(Ticket::ChargerId))
                    .col(string(Ticket::Title))
                    .col(text(Ticket::Body))
                    .col(string(Ticket::Status))
                    .col(integer_null(Ticket::CreatedBy))
                    .col(timestamp_with_time_zone(Ticket::CreatedAt))
                    .col(timestamp_with_time_zone(Ticket::UpdatedAt))
                    .foreign_key(&mut fk(
                        (Ticket::Table, Ticket::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        Restrict,
                    ))
                    .foreign_key(&mut fk(
                        (Ticket::Table, Ticket::ChargerId),
                        (Charger::Table, Charger::Id),
                        SetNull,
                    ))
                    .foreign_key(&mut fk(
                        (Ticket::Table, Ticket::CreatedBy),
                        (User::Table, User::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_ticket_organisation", Ticket::Table, &["organisation_id"]))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TicketComment::Table)
                    .col(pk_auto(TicketComment::Id))
                    .col(integer(TicketComment::TicketId))
                    .col(integer_null(TicketComment::UserId))
                    .col(text(TicketComment::Body))
                    .col(timestamp_with_time_zone(TicketComment::CreatedAt))
                    .foreign_key(&mut fk(
                        (TicketComment::Table, TicketComment::TicketId),
                        (Ticket::Table, Ticket::Id),
                        Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (TicketComment::Table, TicketComment::UserId),
                        (User::Table, User::Id),
                        SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_ticket_comment_ticket", TicketComment::Table, &["ticket_id"]))
            .await?;

        // The audit log outlives what it mentions: no foreign keys.
        manager
            .create_table(
                Table::create()
                    .table(Audit::Table)
                    .col(big_integer(Audit::Id).auto_increment().primary_key())
                    .col(timestamp_with_time_zone(Audit::At))
                    .col(integer_null(Audit::UserId))
                    .col(string(Audit::Action))
                    .col(integer_null(Audit::OrganisationId))
                    .col(string_null(Audit::ChargerId))
                    .col(string_null(Audit::Resource))
                    .col(json_null(Audit::Request))
                    .col(string(Audit::Outcome))
                    .col(text_null(Audit::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_audit_organisation",
                Audit::Table,
                &["organisation_id", "id"],
            ))
            .await?;
        manager
            .create_index(index("idx_audit_user", Audit::Table, &["user_id", "id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Audit::Table.into_iden(),
            TicketComment::Table.into_iden(),
            Ticket::Table.into_iden(),
            ApiToken::Table.into_iden(),
            Membership::Table.into_iden(),
            User::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .drop_index(Index::drop().name("idx_charger_site").table(Charger::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Charger::Table)
                    .drop_column(Charger::SiteId)
                    .to_owned(),
            )
            .await?;
        manager.drop_table(Table::drop().table(Site::Table).to_owned()).await
    }
}
