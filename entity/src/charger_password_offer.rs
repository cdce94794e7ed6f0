//! A password sent to a charger (2.0.1 `SecurityCtrlr.BasicAuthPassword`, 1.6
//! `AuthorizationKey`) that the charger has not yet been seen using. Until it is, the
//! charger's handshake accepts its current password and every offer, so no order of answers,
//! timeouts and reconnects locks it out; the first handshake with an offer makes it the
//! charger's password and removes the others.

use sea_orm::entity::prelude::*;

use crate::values::PasswordOfferState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "charger_password_offer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub charger_id: String,
    pub password_hash: String,
    pub state: PasswordOfferState,
    pub offered_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::charger::Entity",
        from = "Column::ChargerId",
        to = "super::charger::Column::Id",
        on_delete = "Cascade"
    )]
    Charger,
}

impl Related<super::charger::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Charger.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
