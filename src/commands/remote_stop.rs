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
    /// The charger's transaction id: a string, or an integer (1.6 ids are integers, as text or
    /// as a number).
    pub transaction_id: TransactionRef,
}

/// A charger's transaction id as the caller wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(untagged)]
pub enum TransactionRef {
    Number(i64),
    Text(String),
}

impl std::fmt::Display for TransactionRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransactionRef::Number(n) => write!(f, "{n}"),
            TransactionRef::Text(s) => f.write_str(s),
        }
    }
}

impl Message for RemoteStopBody {
    type V16 = s16::RemoteStopTransactionRequest;
    type V201 = s201::RequestStopTransactionRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        let transaction_id = match &self.transaction_id {
            TransactionRef::Number(n) => i32::try_from(*n).ok(),
            TransactionRef::Text(s) => s.parse().ok(),
        }
        .ok_or_else(|| invalid("transaction_id", "OCPP 1.6 transaction ids are 32-bit integers"))?;
        Ok(s16::RemoteStopTransactionRequest { transaction_id })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        Ok(s201::RequestStopTransactionRequest {
            transaction_id: self.transaction_id.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn integer_ids_for_1_6_strings_for_2_0_1() {
        for id in [json!("42"), json!(42)] {
            let b: RemoteStopBody = serde_json::from_value(json!({"transaction_id": id})).unwrap();
            assert_eq!(sent(&b, V16), json!({"transactionId": 42}));
            assert_eq!(sent(&b, V201), json!({"transactionId": "42"}));
        }
        let uuid: RemoteStopBody = serde_json::from_value(json!({"transaction_id": "tx-1"})).unwrap();
        assert!(prepare(&uuid, V16, 0).is_err());
        let huge: RemoteStopBody = serde_json::from_value(json!({"transaction_id": 1u64 << 40})).unwrap();
        assert!(prepare(&huge, V16, 0).is_err());
    }
}
