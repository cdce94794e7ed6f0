//! A back-office account. `organisation_id` is its home: operators of that subtree manage it.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "user")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub username: String,
    pub email: Option<String>,
    /// argon2id PHC string; `None` until the user sets a password.
    #[serde(skip_serializing)]
    pub password_hash: Option<String>,
    /// Base32 TOTP secret; set at enrolment, effective once `totp_confirmed_at` is set.
    #[serde(skip_serializing)]
    pub totp_secret: Option<String>,
    pub totp_confirmed_at: Option<DateTimeUtc>,
    /// The last TOTP time step accepted: a code is good at most once.
    #[serde(skip_serializing)]
    pub totp_last_step: Option<i64>,
    pub organisation_id: i32,
    pub disabled: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
