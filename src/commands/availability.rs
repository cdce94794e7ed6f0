//! ChangeAvailability of the whole charger, an EVSE (2.0.1) or a connector.

use rust_ocpp::v1_6::{messages::change_availability as a16, types::AvailabilityType};
use rust_ocpp::v2_0_1::enumerations::operational_status_enum_type::OperationalStatusEnumType;
use rust_ocpp::v2_0_1::messages::change_availability as a201;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Error;
use super::message::{Message, connector16, evse};

/// `POST /chargers/{id}/availability`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityBody {
    /// `operative` or `inoperative`.
    #[serde(rename = "type")]
    pub kind: AvailabilityKind,
    /// The EVSE (2.0.1) or connector (1.6); none: the whole charger.
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
}

/// Operative or inoperative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AvailabilityKind {
    Operative,
    Inoperative,
}

impl Message for AvailabilityBody {
    type V16 = a16::ChangeAvailabilityRequest;
    type V201 = a201::ChangeAvailabilityRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        let kind = match self.kind {
            AvailabilityKind::Operative => AvailabilityType::Operative,
            AvailabilityKind::Inoperative => AvailabilityType::Inoperative,
        };
        // 1.6 has connectors only; an EVSE id given alone names the connector of that number.
        let connector_id = connector16("connector_id", self.connector_id.or(self.evse_id).unwrap_or(0))?;
        Ok(a16::ChangeAvailabilityRequest { connector_id, kind })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        let operational_status = match self.kind {
            AvailabilityKind::Operative => OperationalStatusEnumType::Operative,
            AvailabilityKind::Inoperative => OperationalStatusEnumType::Inoperative,
        };
        Ok(a201::ChangeAvailabilityRequest {
            operational_status,
            evse: evse(self.evse_id, self.connector_id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn whole_charger_evse_and_connector() {
        let whole = AvailabilityBody {
            kind: AvailabilityKind::Inoperative,
            evse_id: None,
            connector_id: None,
        };
        assert_eq!(sent(&whole, V16), json!({"connectorId": 0, "type": "Inoperative"}));
        assert_eq!(sent(&whole, V201), json!({"operationalStatus": "Inoperative"}));
        let one = AvailabilityBody {
            kind: AvailabilityKind::Operative,
            evse_id: Some(1),
            connector_id: Some(2),
        };
        assert_eq!(sent(&one, V16), json!({"connectorId": 2, "type": "Operative"}));
        assert_eq!(
            sent(&one, V201),
            json!({"operationalStatus": "Operative", "evse": {"id": 1, "connectorId": 2}})
        );
        let negative = AvailabilityBody {
            connector_id: Some(-1),
            ..whole
        };
        assert!(prepare(&negative, V16, 0).is_err());
    }
}
