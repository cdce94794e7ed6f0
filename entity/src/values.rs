//! The closed sets stored in string columns. Each enum reads and writes the same text the
//! column always held (no migration), and is the one place its values are spelled.

use sea_orm::Iterable;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a site is; `home` sites belong to one employee (facility managers see only those).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum SiteKind {
    #[sea_orm(string_value = "public")]
    Public,
    #[sea_orm(string_value = "private")]
    Private,
    #[sea_orm(string_value = "home")]
    Home,
}

/// A token card's standing: blocked tokens are refused everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum TokenStatus {
    #[sea_orm(string_value = "Accepted")]
    Accepted,
    #[sea_orm(string_value = "Blocked")]
    Blocked,
}

/// The token kinds OCPP 2.0.1 names (IdTokenEnumType).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum TokenKind {
    #[sea_orm(string_value = "ISO14443")]
    #[serde(rename = "ISO14443")]
    Iso14443,
    #[sea_orm(string_value = "ISO15693")]
    #[serde(rename = "ISO15693")]
    Iso15693,
    #[sea_orm(string_value = "Central")]
    Central,
    #[sea_orm(string_value = "eMAID")]
    #[serde(rename = "eMAID")]
    EMaid,
    #[sea_orm(string_value = "KeyCode")]
    KeyCode,
    #[sea_orm(string_value = "Local")]
    Local,
    #[sea_orm(string_value = "MacAddress")]
    MacAddress,
    #[sea_orm(string_value = "NoAuthorization")]
    NoAuthorization,
}

/// What a token was answered, in 2.0.1's words (1.6 answers `Invalid` for "not here").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum TokenDecision {
    #[sea_orm(string_value = "Accepted")]
    Accepted,
    #[sea_orm(string_value = "Blocked")]
    Blocked,
    #[sea_orm(string_value = "Expired")]
    Expired,
    /// Unknown, of another organisation tree, or presented as another kind.
    #[sea_orm(string_value = "Invalid")]
    Invalid,
    /// Valid, but no access rule admits it at this private site.
    #[sea_orm(string_value = "NotAtThisLocation")]
    NotAtThisLocation,
}

/// Whether a charger's BootNotification was accepted: chargers nobody adopted stay pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum RegistrationStatus {
    #[sea_orm(string_value = "Accepted")]
    Accepted,
    #[sea_orm(string_value = "Pending")]
    Pending,
}

/// A ticket's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "in_progress")]
    InProgress,
    #[sea_orm(string_value = "closed")]
    Closed,
}

/// What a row of a charger's timeline (`charger_event`) is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A firmware update's progress (1.6 plain and signed, 2.0.1, publishing).
    #[sea_orm(string_value = "firmware")]
    Firmware,
    /// A diagnostics or log upload's progress.
    #[sea_orm(string_value = "diagnostics")]
    Diagnostics,
    /// A connector's error code or fault status, reported or cleared.
    #[sea_orm(string_value = "status")]
    Status,
    /// A 2.0.1 NotifyEvent: a monitored variable's event.
    #[sea_orm(string_value = "event")]
    Event,
    /// A SecurityEventNotification.
    #[sea_orm(string_value = "security")]
    Security,
    /// A DataTransfer the charger sent.
    #[sea_orm(string_value = "data_transfer")]
    DataTransfer,
    /// A certificate request (signing, ISO 15118, OCSP) and what it was answered.
    #[sea_orm(string_value = "certificate")]
    Certificate,
    /// Charging limits, EV charging needs and schedules, reported charging profiles.
    #[sea_orm(string_value = "charging")]
    Charging,
    /// A reservation's end.
    #[sea_orm(string_value = "reservation")]
    Reservation,
    /// A part of a report the charger sends (device model, monitors, customer data, messages).
    #[sea_orm(string_value = "report")]
    Report,
}

/// Who sent the first frame of an exchange in the message log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum MessageDirection {
    /// From the charger to voltgate.
    #[sea_orm(string_value = "in")]
    In,
    /// From voltgate to the charger.
    #[sea_orm(string_value = "out")]
    Out,
}

/// What the answer of a logged exchange was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum FrameKind {
    #[sea_orm(string_value = "CallResult")]
    CallResult,
    #[sea_orm(string_value = "CallError")]
    CallError,
    /// No answer came within the call timeout, or the connection ended first.
    #[sea_orm(string_value = "Timeout")]
    Timeout,
}

/// Where a password offered to a charger stands. Every offer is accepted at the charger's
/// handshake until the charger is seen using one of them (then that one is its password).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum PasswordOfferState {
    /// Sent; the charger has not answered yet.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// The charger accepted it (1.6 also `RebootRequired`) and will connect with it.
    #[sea_orm(string_value = "accepted")]
    Accepted,
    /// No answer came (timeout, or the connection ended): the charger may or may not use it.
    #[sea_orm(string_value = "unanswered")]
    Unanswered,
}

/// Every value's text, in declaration order (form selects).
pub fn names<T: ActiveEnum<Value = String> + Iterable>() -> Vec<String> {
    T::iter().map(|v| v.to_value()).collect()
}

macro_rules! shown_as_stored {
    ($($t:ty),*) => {
        $(impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(&self.to_value())
            }
        })*
    };
}

shown_as_stored!(
    SiteKind,
    TokenStatus,
    TokenKind,
    RegistrationStatus,
    TicketStatus,
    EventKind,
    PasswordOfferState,
    LocalListState,
    CampaignState,
    CampaignStepState,
    DeliveryState,
    IncidentKind,
    WebhookEvent
);

/// Where a charger's local authorisation list stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum LocalListState {
    /// Changes wait to be sent (the charger may be offline).
    #[sea_orm(string_value = "pending")]
    Pending,
    /// The charger holds the latest list.
    #[sea_orm(string_value = "synced")]
    Synced,
    /// The charger refused or failed the last update (`last_error` says how).
    #[sea_orm(string_value = "failed")]
    Failed,
    /// The list has more entries than the charger can hold; nothing was sent.
    #[sea_orm(string_value = "too_large")]
    TooLarge,
    /// The charger has no local list (1.6 LocalAuthListManagement, 2.0.1 LocalAuthListCtrlr).
    #[sea_orm(string_value = "unsupported")]
    Unsupported,
    /// Neither the charger nor its site uses a local list; one it held was emptied.
    #[sea_orm(string_value = "off")]
    Off,
}

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    /// Sending to its chargers as they are online, `concurrency` at a time.
    #[sea_orm(string_value = "running")]
    Running,
    /// Sends nothing new (a person paused it, or its failure ratio was passed); steps in
    /// flight finish.
    #[sea_orm(string_value = "paused")]
    Paused,
    /// Stopped for good by a person; chargers not yet sent to are `cancelled`.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Every charger's step has ended (or the deadline passed).
    #[sea_orm(string_value = "done")]
    Done,
}

/// How far one charger's command in a campaign got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum CampaignStepState {
    /// Not sent yet: waits for its turn, or for the charger to be online.
    #[sea_orm(string_value = "queued")]
    Queued,
    /// Sent, the answer not in yet.
    #[sea_orm(string_value = "sending")]
    Sending,
    /// Firmware accepted: waits for the charger to report `Installed` or a failure.
    #[sea_orm(string_value = "installing")]
    Installing,
    /// The charger took it (firmware: installed).
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// The charger refused, answered CALLERROR, did not answer, or its firmware failed.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Never sent: the charger was not online before the deadline.
    #[sea_orm(string_value = "expired")]
    Expired,
    /// Never sent: the campaign was cancelled first.
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
    /// Sent by a process that stopped before the answer came; not sent again.
    #[sea_orm(string_value = "interrupted")]
    Interrupted,
}

impl CampaignStepState {
    /// Whether the step has ended, one way or another.
    pub fn ended(self) -> bool {
        !matches!(self, Self::Queued | Self::Sending | Self::Installing)
    }
}

/// Where a webhook delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Not yet answered 2xx; tried again with backoff.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// The receiver answered 2xx.
    #[sea_orm(string_value = "delivered")]
    Delivered,
    /// Given up after a day of attempts.
    #[sea_orm(string_value = "failed")]
    Failed,
}

/// What kind of incident a webhook is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    #[sea_orm(string_value = "offline")]
    Offline,
    #[sea_orm(string_value = "fault")]
    Fault,
}

/// The events a webhook can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum WebhookEvent {
    /// A charger reported a problem (a connector error or Faulted status, a 2.0.1 monitored problem).
    #[sea_orm(string_value = "charger.fault")]
    #[serde(rename = "charger.fault")]
    Fault,
    /// Every problem of the fault incident cleared.
    #[sea_orm(string_value = "charger.fault_cleared")]
    #[serde(rename = "charger.fault_cleared")]
    FaultCleared,
    /// Offline for `offline_after_s`.
    #[sea_orm(string_value = "charger.offline")]
    #[serde(rename = "charger.offline")]
    Offline,
    /// Back online for `offline_after_s` after an announced outage.
    #[sea_orm(string_value = "charger.online")]
    #[serde(rename = "charger.online")]
    Online,
    /// A security event the specs mark critical.
    #[sea_orm(string_value = "security.critical")]
    #[serde(rename = "security.critical")]
    SecurityCritical,
    /// A firmware update ended without installing.
    #[sea_orm(string_value = "firmware.failed")]
    #[serde(rename = "firmware.failed")]
    FirmwareFailed,
    /// A campaign paused itself at its failure ratio (or its creator lost the account).
    #[sea_orm(string_value = "campaign.paused")]
    #[serde(rename = "campaign.paused")]
    CampaignPaused,
    /// A campaign ended: every charger's step did, or its deadline passed.
    #[sea_orm(string_value = "campaign.done")]
    #[serde(rename = "campaign.done")]
    CampaignDone,
}
