//! TriggerMessage: asks the charger to send one of its own messages now.

use rust_ocpp::v1_6::{messages::trigger_message as t16, types::MessageTrigger};
use rust_ocpp::v2_0_1::enumerations::message_trigger_enum_type::MessageTriggerEnumType;
use rust_ocpp::v2_0_1::messages::trigger_message as t201;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Error;
use super::message::{Message, connector16, evse, named};

/// `POST /chargers/{id}/trigger`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerBody {
    /// The message to trigger, as the charger's version names it (`BootNotification`,
    /// `StatusNotification`, `Heartbeat`, `MeterValues`, `FirmwareStatusNotification`, ...).
    pub message: String,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
}

impl Message for TriggerBody {
    type V16 = t16::TriggerMessageRequest;
    type V201 = t201::TriggerMessageRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        let requested_message: MessageTrigger = named("message", &self.message, "TriggerMessage")?;
        let connector_id = self
            .connector_id
            .or(self.evse_id)
            .map(|c| connector16("connector_id", c))
            .transpose()?;
        Ok(t16::TriggerMessageRequest {
            requested_message,
            connector_id,
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        let requested_message: MessageTriggerEnumType = named("message", &self.message, "TriggerMessage")?;
        Ok(t201::TriggerMessageRequest {
            requested_message,
            evse: evse(self.evse_id, self.connector_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn each_version_knows_its_own_messages() {
        let log = TriggerBody {
            message: "LogStatusNotification".into(),
            evse_id: None,
            connector_id: None,
        };
        assert_eq!(sent(&log, V201), json!({"requestedMessage": "LogStatusNotification"}));
        assert!(matches!(prepare(&log, V16, 0), Err(Error::Invalid { field, .. }) if field == "message"));
        let status = TriggerBody {
            message: "StatusNotification".into(),
            evse_id: Some(1),
            connector_id: None,
        };
        assert_eq!(
            sent(&status, V16),
            json!({"requestedMessage": "StatusNotification", "connectorId": 1})
        );
        assert_eq!(
            sent(&status, V201),
            json!({"requestedMessage": "StatusNotification", "evse": {"id": 1}})
        );
    }
}
