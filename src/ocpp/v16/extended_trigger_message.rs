//! ExtendedTriggerMessage (1.6 security whitepaper): TriggerMessage with the extension's own
//! messages, among them SignChargePointCertificate (the charge point then sends a CSR).

use serde::{Deserialize, Serialize};

/// The whitepaper's MessageTriggerEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExtendedMessageTrigger {
    BootNotification,
    LogStatusNotification,
    FirmwareStatusNotification,
    Heartbeat,
    MeterValues,
    SignChargePointCertificate,
    StatusNotification,
}

/// Asks the charge point to send `requested_message` now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedTriggerMessageRequest {
    pub requested_message: ExtendedMessageTrigger,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<u32>,
}

/// The whitepaper's TriggerMessageStatusEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExtendedTriggerStatus {
    Accepted,
    Rejected,
    NotImplemented,
}

/// Whether the charge point will send it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExtendedTriggerMessageResponse {
    pub status: ExtendedTriggerStatus,
}
