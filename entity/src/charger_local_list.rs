//! What a charger's local authorisation list holds as far as voltgate knows, what the charger
//! can take, and what it still has to be sent (a cache clear included).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charger_local_list")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub charger_id: String,
    /// The place whose list the charger holds (`None`: none, or emptied).
    pub place_id: Option<i32>,
    /// The place version the charger's list matches.
    pub place_version: i32,
    /// The list version the charger accepted last (what GetLocalListVersion should answer).
    pub list_version: i32,
    pub entries: i32,
    /// Whether it has a local list at all; `None` until asked.
    pub supported: Option<bool>,
    /// Its limits: entries per SendLocalList, bytes per message, entries in all.
    pub items_per_message: Option<i32>,
    pub bytes_per_message: Option<i32>,
    pub max_entries: Option<i32>,
    pub state: super::values::LocalListState,
    pub last_error: Option<String>,
    pub synced_at: Option<DateTimeUtc>,
    /// The next sync sends the whole list.
    pub full_pending: bool,
    /// A token it may have cached was blocked or removed: it is to clear its cache.
    pub clear_cache_pending: bool,
    pub cache_cleared_at: Option<DateTimeUtc>,
    /// Raised by every mark (full list, cache clear), so a sync that ran meanwhile does not
    /// clear a newer one.
    pub marks: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
