//! Local authorisation lists: whether a site or a charger uses one, the list each place
//! (an organisation and a site) should hold, entry by entry with the version it last changed
//! in (a removed entry stays as a row without a status, so a charger that missed it is sent the
//! removal), and per charger what it holds, what it can take, and what it still has to be sent.

use sea_orm_migration::{prelude::*, schema::*};

use crate::util::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Site {
    Table,
    Id,
    LocalList,
}

#[derive(DeriveIden)]
enum Charger {
    Table,
    Id,
    LocalList,
}

#[derive(DeriveIden)]
enum Organisation {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum LocalListPlace {
    Table,
    Id,
    Key,
    RootId,
    OrganisationId,
    SiteId,
    Version,
    Entries,
    ComputedAt,
}

#[derive(DeriveIden)]
enum LocalListEntry {
    Table,
    PlaceId,
    IdToken,
    Kind,
    Status,
    ExpiresAt,
    GroupIdToken,
    Version,
}

#[derive(DeriveIden)]
enum ChargerLocalList {
    Table,
    ChargerId,
    PlaceId,
    PlaceVersion,
    ListVersion,
    Entries,
    Supported,
    ItemsPerMessage,
    BytesPerMessage,
    MaxEntries,
    State,
    LastError,
    SyncedAt,
    FullPending,
    ClearCachePending,
    CacheClearedAt,
    Marks,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Site::Table)
                    .add_column(boolean(Site::LocalList).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Charger::Table)
                    .add_column(boolean_null(Charger::LocalList))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LocalListPlace::Table)
                    .col(integer(LocalListPlace::Id).auto_increment().primary_key())
                    .col(string_uniq(LocalListPlace::Key))
                    .col(integer(LocalListPlace::RootId))
                    .col(integer(LocalListPlace::OrganisationId))
                    .col(integer_null(LocalListPlace::SiteId))
                    .col(integer(LocalListPlace::Version).default(0))
                    .col(integer(LocalListPlace::Entries).default(0))
                    .col(timestamp_with_time_zone(LocalListPlace::ComputedAt))
                    .foreign_key(&mut fk(
                        (LocalListPlace::Table, LocalListPlace::OrganisationId),
                        (Organisation::Table, Organisation::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (LocalListPlace::Table, LocalListPlace::SiteId),
                        (Site::Table, Site::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idx_local_list_place_root", LocalListPlace::Table, &["root_id"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LocalListEntry::Table)
                    .col(integer(LocalListEntry::PlaceId))
                    .col(string(LocalListEntry::IdToken))
                    .col(string(LocalListEntry::Kind))
                    .col(string_null(LocalListEntry::Status))
                    .col(timestamp_with_time_zone_null(LocalListEntry::ExpiresAt))
                    .col(string_null(LocalListEntry::GroupIdToken))
                    .col(integer(LocalListEntry::Version))
                    .primary_key(
                        Index::create()
                            .col(LocalListEntry::PlaceId)
                            .col(LocalListEntry::IdToken),
                    )
                    .foreign_key(&mut fk(
                        (LocalListEntry::Table, LocalListEntry::PlaceId),
                        (LocalListPlace::Table, LocalListPlace::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_local_list_entry_version",
                LocalListEntry::Table,
                &["place_id", "version"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ChargerLocalList::Table)
                    .col(string(ChargerLocalList::ChargerId).primary_key())
                    .col(integer_null(ChargerLocalList::PlaceId))
                    .col(integer(ChargerLocalList::PlaceVersion).default(0))
                    .col(integer(ChargerLocalList::ListVersion).default(0))
                    .col(integer(ChargerLocalList::Entries).default(0))
                    .col(boolean_null(ChargerLocalList::Supported))
                    .col(integer_null(ChargerLocalList::ItemsPerMessage))
                    .col(integer_null(ChargerLocalList::BytesPerMessage))
                    .col(integer_null(ChargerLocalList::MaxEntries))
                    .col(string(ChargerLocalList::State))
                    .col(string_null(ChargerLocalList::LastError))
                    .col(timestamp_with_time_zone_null(ChargerLocalList::SyncedAt))
                    .col(boolean(ChargerLocalList::FullPending).default(false))
                    .col(boolean(ChargerLocalList::ClearCachePending).default(false))
                    .col(timestamp_with_time_zone_null(ChargerLocalList::CacheClearedAt))
                    .col(integer(ChargerLocalList::Marks).default(0))
                    .foreign_key(&mut fk(
                        (ChargerLocalList::Table, ChargerLocalList::ChargerId),
                        (Charger::Table, Charger::Id),
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        (ChargerLocalList::Table, ChargerLocalList::PlaceId),
                        (LocalListPlace::Table, LocalListPlace::Id),
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "idx_charger_local_list_place",
                ChargerLocalList::Table,
                &["place_id"],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ChargerLocalList::Table.into_iden(),
            LocalListEntry::Table.into_iden(),
            LocalListPlace::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Charger::Table)
                    .drop_column(Charger::LocalList)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Site::Table)
                    .drop_column(Site::LocalList)
                    .to_owned(),
            )
            .await
    }
}
