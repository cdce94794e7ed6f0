//! SignedUpdateFirmware (1.6 security whitepaper): a firmware update the charge point checks
//! against a signing certificate and a signature before installing it; progress follows as
//! SignedFirmwareStatusNotification with this request id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where the firmware is and how it is signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Firmware {
    pub location: String,
    pub retrieve_date_time: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub install_date_time: Option<DateTime<Utc>>,
    /// PEM certificate the signature was made with (issued by the manufacturer root).
    pub signing_certificate: String,
    /// Base64 signature of the firmware file.
    pub signature: String,
}

/// The request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedUpdateFirmwareRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_interval: Option<i32>,
    pub request_id: i32,
    pub firmware: Firmware,
}

/// The whitepaper's UpdateFirmwareStatusEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpdateFirmwareStatus {
    Accepted,
    Rejected,
    AcceptedCanceled,
    InvalidCertificate,
    RevokedCertificate,
}

/// Whether the charge point will try.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedUpdateFirmwareResponse {
    pub status: UpdateFirmwareStatus,
}
