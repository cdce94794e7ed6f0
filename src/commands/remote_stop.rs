//! 1.6 RemoteStopTransaction (integer ids), 2.0.1 RequestStopTransaction (string ids).

use rust_ocpp::v1_6::messages::remote_stop_transaction as s16;
use rust_ocpp::v2_0_1::messages::request_stop_transaction as s201;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::message::{Message, invalid};
use super::{CommandReply, Error};

/// `POST /chargers/{id}/remote-stop`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteStopBody {
    /// The charger's transaction id (an integer for 1.6).
    pub transaction_id: String,
}

impl Message for RemoteStopBody {
    const V16: &'static str = "RemoteStopTransaction";
    const V201: &'static str = "RequestStopTransaction";
    type Request16 = s16::RemoteStopTransactionRequest;
    type Response16 = s16::RemoteStopTransactionResponse;
    type Request201 = s201::RequestStopTransactionRequest;
    type Response201 = s201::RequestStopTransactionResponse;

    fn v16(&self) -> Result<Self::Request16, Error> {
        let transaction_id = self
            .transaction_id
            .parse()
            .map_err(|_| invalid("transaction_id", "OCPP 1.6 transaction ids are integers"))?;
        Ok(s16::RemoteStopTransactionRequest { transaction_id })
    }

    fn v201(&self, _: i32) -> Result<Self::Request201, Error> {
        Ok(s201::RequestStopTransactionRequest {
            transaction_id: self.transaction_id.clone(),
        })
    }

    fn reply16(a: Self::Response16) -> CommandReply {
        CommandReply::status(a.status, None)
    }

    fn reply201(a: Self::Response201) -> CommandReply {
        CommandReply::status(a.status, a.status_info)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::commands::message::{prepare, tests::sent};
    use crate::ocpp::OcppVersion::{V16, V201};

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
