//! A charge point, keyed by its OCPP identity.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// `organisation_id` is `None` for a charger that connected unregistered (`unknown_chargers =
/// "pending"`) and waits for an operator to assign it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "charger")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub organisation_id: Option<i32>,
    pub site_id: Option<i32>,
    #[serde(skip_serializing)]
    pub password_hash: Option<String>,
    /// When the current password became the charger's; `None` since registration.
    pub password_changed_at: Option<DateTimeUtc>,
    /// 1, 2 or 3; `None` follows `ocpp.security_profile`.
    pub security_profile: Option<i32>,
    /// A higher profile the charger agreed to move to: its first connection that meets it
    /// makes it `security_profile`; until then the old one still admits it.
    pub security_profile_pending: Option<i32>,
    pub ocpp_version: Option<String>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    pub firmware_version: Option<String>,
    /// What its last BootNotification was answered.
    pub registration_status: super::values::RegistrationStatus,
    pub last_seen_at: Option<DateTimeUtc>,
    pub last_boot_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Last FirmwareStatusNotification status and when it came.
    pub firmware_status: Option<String>,
    pub firmware_status_at: Option<DateTimeUtc>,
    /// Audit row of the last firmware update sent (1.6 statuses carry no request id).
    pub firmware_audit_id: Option<i64>,
    /// Last DiagnosticsStatusNotification (1.6) / LogStatusNotification (2.0.1) status.
    pub diagnostics_status: Option<String>,
    pub diagnostics_status_at: Option<DateTimeUtc>,
    pub diagnostics_audit_id: Option<i64>,
    /// The certificate voltgate's CA last issued it (serial, hex) and when that expires.
    pub certificate_serial: Option<String>,
    pub certificate_expires_at: Option<DateTimeUtc>,
    /// When it was last asked for a CSR (renewal is asked at most once a day).
    pub certificate_requested_at: Option<DateTimeUtc>,
    /// Whether it keeps a local authorisation list; `None` follows its site.
    pub local_list: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
    #[sea_orm(has_many = "super::connector::Entity")]
    Connector,
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl Related<super::connector::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Connector.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
