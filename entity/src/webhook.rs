//! A receiver of alerts for an organisation's subtree.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "webhook")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organisation_id: i32,
    /// Where deliveries are POSTed; empty for an e-mail subscription.
    pub url: String,
    /// The user an e-mail subscription mails; `None` for a webhook.
    pub subscriber_id: Option<i32>,
    /// The HMAC key deliveries are signed with; shown once, when it is created.
    #[serde(skip_serializing)]
    pub secret: String,
    /// The event names it wants (`["charger.fault", ...]`).
    pub events: Json,
    /// How long a charger must be offline (and back online) before it is announced.
    pub offline_after_s: i32,
    pub created_by: Option<i32>,
    /// The last timeline row looked at for security and firmware events.
    pub event_cursor: i64,
    /// The last campaign change looked at.
    pub campaign_cursor: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Where a row's deliveries go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sink<'a> {
    /// POSTed, signed, to the URL.
    Url(&'a str),
    /// Mailed to the user.
    Mail(i32),
}

impl Model {
    /// Where its deliveries go.
    pub fn sink(&self) -> Sink<'_> {
        match self.subscriber_id {
            Some(user) => Sink::Mail(user),
            None => Sink::Url(&self.url),
        }
    }
}
