//! One token in a place's local list, as Authorize would answer it there.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "local_list_entry")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub place_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub id_token: String,
    pub kind: super::values::TokenKind,
    /// `None`: removed from the list in `version` (kept so chargers that missed it hear of it).
    pub status: Option<super::values::TokenDecision>,
    pub expires_at: Option<DateTimeUtc>,
    pub group_id_token: Option<String>,
    /// The place version this entry last changed in.
    pub version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
