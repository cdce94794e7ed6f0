//! The local list one place (an organisation, and a site or none) should hold: every charger
//! there gets the same list, so it is computed once here.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "local_list_place")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// `"{organisation_id}:{site_id}"`, `-` for no site.
    #[sea_orm(unique)]
    pub key: String,
    pub root_id: i32,
    pub organisation_id: i32,
    pub site_id: Option<i32>,
    /// Raised by every change to an entry; entries carry the version they changed in.
    pub version: i32,
    /// Entries with a status (the list's length).
    pub entries: i32,
    pub computed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
