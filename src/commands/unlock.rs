//! UnlockConnector: 1.6 names a connector, 2.0.1 an EVSE and its connector.

use rust_ocpp::v1_6::messages::unlock_connector as u16;
use rust_ocpp::v2_0_1::messages::unlock_connector as u201;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Error;
use super::message::{Message, invalid};

/// `POST /chargers/{id}/unlock`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockBody {
    /// Required for 2.0.1 chargers.
    pub evse_id: Option<i32>,
    pub connector_id: i32,
}

impl Message for UnlockBody {
    type V16 = u16::UnlockConnectorRequest;
    type V201 = u201::UnlockConnectorRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        let connector_id = u32::try_from(self.connector_id)
            .ok()
            .filter(|c| *c > 0)
            .ok_or_else(|| invalid("connector_id", "must be 1 or more"))?;
        Ok(u16::UnlockConnectorRequest { connector_id })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        let evse_id = self
            .evse_id
            .ok_or_else(|| invalid("evse_id", "required for OCPP 2.0.1 chargers"))?;
        Ok(u201::UnlockConnectorRequest {
            evse_id,
            connector_id: self.connector_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn each_version_addresses_its_own_way() {
        let b = UnlockBody {
            evse_id: Some(2),
            connector_id: 1,
        };
        assert_eq!(sent(&b, V16), json!({"connectorId": 1}));
        assert_eq!(sent(&b, V201), json!({"evseId": 2, "connectorId": 1}));
    }

    #[test]
    fn what_a_version_cannot_carry_is_refused_before_sending() {
        let no_evse = UnlockBody {
            evse_id: None,
            connector_id: 1,
        };
        assert!(matches!(prepare(&no_evse, V201, 0), Err(Error::Invalid { field, .. }) if field == "evse_id"));
        let zero = UnlockBody {
            evse_id: None,
            connector_id: 0,
        };
        assert!(matches!(prepare(&zero, V16, 0), Err(Error::Invalid { field, .. }) if field == "connector_id"));
    }
}
