//! SecurityEventNotification (1.6 security whitepaper, use case N01 of 2.0.1 backported).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ocpp::Text;

/// A security event the charge point saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEventNotificationRequest {
    /// The event type; the whitepaper lists the standard ones, vendors may add more.
    #[serde(rename = "type")]
    pub kind: Text<50>,
    pub timestamp: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tech_info: Option<Text<255>>,
}

/// The empty acknowledgement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityEventNotificationResponse {}
