//! What the API shows of a charger's answer: its status as one closed set across commands
//! and versions, the 2.0.1 `statusInfo` when the charger sent one, and the few
//! command-specific fields.

use rust_ocpp::v1_6::types as t16;
use rust_ocpp::v2_0_1::datatypes::status_info_type::StatusInfoType;
use rust_ocpp::v2_0_1::enumerations as e201;
use serde::Serialize;
use utoipa::ToSchema;

/// What the charger answered.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CommandReply {
    /// The charger's own status.
    pub status: ReplyStatus,
    /// Why, when a 2.0.1 charger said (`reasonCode`, `additionalInfo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_info: Option<StatusInfo>,
    /// The file the charger uploads (diagnostics, logs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// The values asked for (configuration, variables).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<Vec<ConfigurationEntry>>,
    /// 1.6 keys the charger does not know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_keys: Option<Vec<String>>,
    /// The transaction a 2.0.1 remote start joined, if one was already running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The certificates the charger has installed (GetInstalledCertificateIds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificates: Option<Vec<super::InstalledCertificate>>,
    /// A password voltgate generated and sent (password change): shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

impl CommandReply {
    /// An answer with nothing but a status (and the reason, if any).
    pub fn status(status: impl Into<ReplyStatus>, info: Option<StatusInfoType>) -> Self {
        CommandReply {
            status: status.into(),
            status_info: info.map(StatusInfo::from),
            file_name: None,
            configuration: None,
            unknown_keys: None,
            transaction_id: None,
            certificates: None,
            password: None,
        }
    }
}

/// A 2.0.1 charger's reason for its status.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatusInfo {
    pub reason_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub additional_info: Option<String>,
}

impl From<StatusInfoType> for StatusInfo {
    fn from(s: StatusInfoType) -> Self {
        StatusInfo {
            reason_code: s.reason_code,
            additional_info: s.additional_info,
        }
    }
}

/// One configuration key (1.6) or `Component.Variable` (2.0.1) as the charger reported it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConfigurationEntry {
    pub key: String,
    pub value: Option<String>,
    /// 1.6: the key cannot be changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readonly: Option<bool>,
    /// 2.0.1: whether the variable could be read or set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<ReplyStatus>,
    /// 2.0.1: the charger's reason for that status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_info: Option<StatusInfo>,
}

/// Every status a charger may answer a command with, in either version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ReplyStatus {
    Accepted,
    Rejected,
    Scheduled,
    RebootRequired,
    NotSupported,
    NotImplemented,
    Unlocked,
    UnlockFailed,
    OngoingAuthorizedTransaction,
    UnknownConnector,
    AcceptedCanceled,
    InvalidCertificate,
    RevokedCertificate,
    UnknownComponent,
    UnknownVariable,
    NotSupportedAttributeType,
    EmptyResultSet,
    NotFound,
    Failed,
}

impl ReplyStatus {
    /// The name as the charger sent it, which is also the audit row's outcome.
    pub fn as_str(self) -> &'static str {
        use ReplyStatus::*;
        match self {
            Accepted => "Accepted",
            Rejected => "Rejected",
            Scheduled => "Scheduled",
            RebootRequired => "RebootRequired",
            NotSupported => "NotSupported",
            NotImplemented => "NotImplemented",
            Unlocked => "Unlocked",
            UnlockFailed => "UnlockFailed",
            OngoingAuthorizedTransaction => "OngoingAuthorizedTransaction",
            UnknownConnector => "UnknownConnector",
            AcceptedCanceled => "AcceptedCanceled",
            InvalidCertificate => "InvalidCertificate",
            RevokedCertificate => "RevokedCertificate",
            UnknownComponent => "UnknownComponent",
            UnknownVariable => "UnknownVariable",
            NotSupportedAttributeType => "NotSupportedAttributeType",
            EmptyResultSet => "EmptyResultSet",
            NotFound => "NotFound",
            Failed => "Failed",
        }
    }
}

impl ReplyStatus {
    /// Whether the charger took what it was sent: `Accepted`, or `RebootRequired` (it applies
    /// it at its next start).
    pub fn took(self) -> bool {
        matches!(self, ReplyStatus::Accepted | ReplyStatus::RebootRequired)
    }
}

impl std::fmt::Display for ReplyStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// Each version's status enum maps variant by variant; a rust-ocpp upgrade that adds one
/// fails to compile here instead of answering something made up.
macro_rules! statuses {
    ($($ty:ty { $($v:ident),* $(,)? })*) => {
        $(impl From<$ty> for ReplyStatus {
            fn from(s: $ty) -> Self {
                match s { $(<$ty>::$v => ReplyStatus::$v,)* }
            }
        })*
    };
}

statuses! {
    t16::ResetResponseStatus { Accepted, Rejected }
    t16::UnlockStatus { Unlocked, UnlockFailed, NotSupported }
    t16::AvailabilityStatus { Accepted, Rejected, Scheduled }
    t16::TriggerMessageStatus { Accepted, Rejected, NotImplemented }
    t16::ConfigurationStatus { Accepted, Rejected, RebootRequired, NotSupported }
    t16::RemoteStartStopStatus { Accepted, Rejected }
    t16::ClearCacheStatus { Accepted, Rejected }
    e201::reset_status_enum_type::ResetStatusEnumType { Accepted, Rejected, Scheduled }
    e201::unlock_status_enum_type::UnlockStatusEnumType {
        Unlocked, UnlockFailed, OngoingAuthorizedTransaction, UnknownConnector
    }
    e201::update_firmware_status_enum_type::UpdateFirmwareStatusEnumType {
        Accepted, Rejected, AcceptedCanceled, InvalidCertificate, RevokedCertificate
    }
    e201::change_availability_status_enum_type::ChangeAvailabilityStatusEnumType { Accepted, Rejected, Scheduled }
    e201::trigger_message_status_enum_type::TriggerMessageStatusEnumType { Accepted, Rejected, NotImplemented }
    e201::log_status_enum_type::LogStatusEnumType { Accepted, Rejected, AcceptedCanceled }
    e201::get_variable_status_enum_type::GetVariableStatusEnumType {
        Accepted, Rejected, UnknownComponent, UnknownVariable, NotSupportedAttributeType
    }
    e201::set_variable_status_enum_type::SetVariableStatusEnumType {
        Accepted, Rejected, UnknownComponent, UnknownVariable, NotSupportedAttributeType, RebootRequired
    }
    e201::request_start_stop_status_enum_type::RequestStartStopStatusEnumType { Accepted, Rejected }
    e201::certificate_signed_status_enum_type::CertificateSignedStatusEnumType { Accepted, Rejected }
    crate::ocpp::v16::extended_trigger_message::ExtendedTriggerStatus { Accepted, Rejected, NotImplemented }
    crate::ocpp::v16::certificate_signed::CertificateSignedStatus { Accepted, Rejected }
    crate::ocpp::v16::get_installed_certificate_ids::GetInstalledCertificateStatus { Accepted, NotFound }
    crate::ocpp::v16::install_certificate::InstallCertificateStatus { Accepted, Failed, Rejected }
    crate::ocpp::v16::delete_certificate::DeleteCertificateStatus { Accepted, Failed, NotFound }
    crate::ocpp::v16::get_log::LogStatus { Accepted, Rejected, AcceptedCanceled }
    crate::ocpp::v16::signed_update_firmware::UpdateFirmwareStatus {
        Accepted, Rejected, AcceptedCanceled, InvalidCertificate, RevokedCertificate
    }
    e201::get_installed_certificate_status_enum_type::GetInstalledCertificateStatusEnumType { Accepted, NotFound }
    e201::install_certificate_status_enum_type::InstallCertificateStatusEnumType { Accepted, Rejected, Failed }
    e201::delete_certificate_status_enum_type::DeleteCertificateStatusEnumType { Accepted, Failed, NotFound }
    e201::clear_cache_status_enum_type::ClearCacheStatusEnumType { Accepted, Rejected }
    e201::generic_device_model_status_enum_type::GenericDeviceModelStatusEnumType {
        Accepted, Rejected, NotSupported, EmptyResultSet
    }
}
