//! A node of the organisation tree.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// `path` is the materialised chain of ids from the root, `/1/4/9/`, so "X is in the subtree
/// of Y" is `X.path LIKE Y.path || '%'`, one indexed query.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "organisation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub parent_id: Option<i32>,
    pub path: String,
    /// Users at or below this organisation must use two-factor authentication.
    pub require_2fa: bool,
    pub created_at: DateTimeUtc,
    /// A fault open longer than `auto_tickets_after_s` on a charger at or below it opens a
    /// maintenance ticket.
    pub auto_tickets: bool,
    pub auto_tickets_after_s: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "Entity", from = "Column::ParentId", to = "Column::Id")]
    Parent,
    #[sea_orm(has_many = "super::charger::Entity")]
    Charger,
}

impl Related<super::charger::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Charger.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
