//! 1.6 RemoteStopTransaction (integer ids), 2.0.1 RequestStopTransaction (string ids).

use rust_ocpp::v1_6::messages::remote_stop_transaction as s16;
use rust_ocpp::v2_0_1::messages::request_stop_transaction as s201;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Error;
use super::message::{Message, invalid};

/// `POST /chargers/{id}/remote-stop`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteStopBody {
    /// The charger's transaction id (an integer for 1.6).
    pub transaction_id: String,
}

impl Message for RemoteStopBody {
    type V16 = s16::RemoteStopTransactionRequest;
    type V201 = s201::RequestStopTransactionRequest;

    fn v16(&self) -> Result<Self::V16, Error> {
        let transaction_id = self
            .transaction_id
            .parse()
            .map_err(|_| invalid("transaction_id", "OCPP 1.6 transaction ids are integers"))?;
        Ok(s16::RemoteStopTransactionRequest { transaction_id })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        Ok(s201::RequestStopTransactionRequest {
            transaction_id: self.transaction_id.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn integer_ids_for_1_6_strings_for_2_0_1() {
        let b = RemoteStopBody {
            transaction_id: "42".into(),
        };
        assert_eq!(sent(&b, V16), json!({"transactionId": 42}));
        assert_eq!(sent(&b, V201), json!({"transactionId": "42"}));
        let uuid = RemoteStopBody {
            transaction_id: "tx-1".into(),
        };
        assert!(prepare(&uuid, V16, 0).is_err());
    }
}
