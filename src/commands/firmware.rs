//! UpdateFirmware. Progress arrives later as FirmwareStatusNotification; 2.0.1 ties those to
//! this command by the request id.

use chrono::{DateTime, Utc};
use rust_ocpp::v1_6::messages::update_firmware as f16;
use rust_ocpp::v2_0_1::{datatypes::firmware_type::FirmwareType, messages::update_firmware as f201};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::message::Message;
use super::{CommandReply, Error, ReplyStatus};
use crate::ocpp::millis;

/// `POST /chargers/{id}/firmware`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareBody {
    /// URI the charger downloads the firmware from.
    pub location: String,
    /// When to start downloading (default: now).
    pub retrieve_at: Option<DateTime<Utc>>,
    pub retries: Option<i32>,
    pub retry_interval_s: Option<i32>,
}

impl FirmwareBody {
    fn retrieve_at(&self) -> DateTime<Utc> {
        millis(self.retrieve_at.unwrap_or_else(Utc::now))
    }
}

impl Message for FirmwareBody {
    type V16 = f16::UpdateFirmwareRequest;
    type V201 = f201::UpdateFirmwareRequest;

    fn v16(&self) -> Result<Self::V16, Error> {
        Ok(f16::UpdateFirmwareRequest {
            location: self.location.clone(),
            retries: self.retries,
            retrieve_date: self.retrieve_at(),
            retry_interval: self.retry_interval_s,
        })
    }

    fn v201(&self, request_id: i32) -> Result<Self::V201, Error> {
        Ok(f201::UpdateFirmwareRequest {
            retries: self.retries,
            retry_interval: self.retry_interval_s,
            request_id,
            firmware: FirmwareType {
                location: self.location.clone(),
                retrieve_date_time: self.retrieve_at(),
                install_date_time: None,
                signing_certificate: None,
                signature: None,
            },
        })
    }
}

/// 1.6 UpdateFirmware.conf has no fields: answering at all is acceptance.
impl From<f16::UpdateFirmwareResponse> for CommandReply {
    fn from(_: f16::UpdateFirmwareResponse) -> Self {
        CommandReply::status(ReplyStatus::Accepted, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn the_2_0_1_request_carries_the_request_id_and_1_6_times_have_milliseconds() {
        let b = FirmwareBody {
            location: "https://fw.example/1.bin".into(),
            retrieve_at: None,
            retries: Some(2),
            retry_interval_s: None,
        };
        let v201 = sent(&b, V201);
        assert_eq!(v201["requestId"], json!(7));
        assert_eq!(v201["firmware"]["location"], json!("https://fw.example/1.bin"));
        let v16 = sent(&b, V16);
        let at = v16["retrieveDate"].as_str().unwrap();
        assert!(at.len() <= "2026-12-01T21:35:20.348Z".len(), "{at}");
        assert!(v16.get("retryInterval").is_none(), "{v16}");
        assert_eq!(shown::<FirmwareBody>(V16, json!({})), json!({"status": "Accepted"}));
    }
}
