//! LogStatusNotification (1.6 security whitepaper): progress of a GetLog upload.

use serde::{Deserialize, Serialize};

/// The whitepaper's UploadLogStatusEnumType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UploadLogStatus {
    BadMessage,
    Idle,
    NotSupportedOperation,
    PermissionDenied,
    Uploaded,
    UploadFailure,
    Uploading,
}

/// A log upload's status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogStatusNotificationRequest {
    pub status: UploadLogStatus,
    /// The `requestId` of the GetLog; absent for `Idle`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i32>,
}

/// The empty acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogStatusNotificationResponse {}
