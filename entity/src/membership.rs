//! A role a user holds on an organisation and everything below it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "membership")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub user_id: i32,
    pub organisation_id: i32,
    /// `operator`, `support`, `maintenance`, `facility_manager` or `fleet_manager`.
    pub role: String,
    pub created_at: DateTimeUtc,
    /// The role holds from this instant (`None`: since it was granted).
    pub valid_from: Option<DateTimeUtc>,
    /// The role holds until this instant (`None`: until taken away).
    pub valid_until: Option<DateTimeUtc>,
    /// The end of the window has been written to the audit log.
    pub expiry_audited: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
