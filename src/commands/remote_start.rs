//! 1.6 RemoteStartTransaction, 2.0.1 RequestStartTransaction (the remote start id is the
//! audit row's id, so the TransactionEvent that follows points back at the command).

use rust_ocpp::v1_6::messages::remote_start_transaction as s16;
use rust_ocpp::v2_0_1::datatypes::id_token_type::IdTokenType;
use rust_ocpp::v2_0_1::enumerations::id_token_enum_type::IdTokenEnumType;
use rust_ocpp::v2_0_1::messages::request_start_transaction as s201;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::message::{Message, connector16};
use super::{CommandReply, Error};
use entity::values::TokenKind;

/// `POST /chargers/{id}/remote-start`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteStartBody {
    pub id_token: String,
    /// EVSE (2.0.1) or connector (1.6) to start on.
    pub evse_id: Option<i32>,
    /// The token's kind as 2.0.1 sends it; defaults to the kind the token is registered with
    /// in the charger's organisation tree, else `Central`.
    pub id_token_type: Option<TokenKind>,
}

impl Message for RemoteStartBody {
    type V16 = s16::RemoteStartTransactionRequest;
    type V201 = s201::RequestStartTransactionRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(s16::RemoteStartTransactionRequest {
            connector_id: self.evse_id.map(|c| connector16("evse_id", c)).transpose()?,
            id_tag: self.id_token.clone(),
            charging_profile: None,
        })
    }

    fn v201(&self, request_id: i32) -> Result<Self::V201, Error> {
        Ok(s201::RequestStartTransactionRequest {
            evse_id: self.evse_id,
            remote_start_id: request_id,
            id_token: IdTokenType {
                id_token: self.id_token.clone(),
                kind: id_token_kind(self.id_token_type.unwrap_or(TokenKind::Central)),
                additional_info: None,
            },
            charging_profile: None,
            group_id_token: None,
        })
    }
}

/// The 2.0.1 IdTokenEnumType of a stored kind (they share their names).
pub(super) fn id_token_kind(kind: TokenKind) -> IdTokenEnumType {
    match kind {
        TokenKind::Iso14443 => IdTokenEnumType::ISO14443,
        TokenKind::Iso15693 => IdTokenEnumType::ISO15693,
        TokenKind::Central => IdTokenEnumType::Central,
        TokenKind::EMaid => IdTokenEnumType::EMAID,
        TokenKind::KeyCode => IdTokenEnumType::KeyCode,
        TokenKind::Local => IdTokenEnumType::Local,
        TokenKind::MacAddress => IdTokenEnumType::MacAddress,
        TokenKind::NoAuthorization => IdTokenEnumType::NoAuthorization,
    }
}

impl From<s201::RequestStartTransactionResponse> for CommandReply {
    fn from(a: s201::RequestStartTransactionResponse) -> Self {
        CommandReply {
            transaction_id: a.transaction_id,
            ..CommandReply::status(a.status, a.status_info)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn the_token_kind_and_the_remote_start_id() {
        let mut b = RemoteStartBody {
            id_token: "TAG-1".into(),
            evse_id: Some(1),
            id_token_type: None,
        };
        assert_eq!(sent(&b, V16), json!({"idTag": "TAG-1", "connectorId": 1}));
        assert_eq!(
            sent(&b, V201),
            json!({"evseId": 1, "remoteStartId": 7, "idToken": {"idToken": "TAG-1", "type": "Central"}})
        );
        b.id_token_type = Some(TokenKind::Iso14443);
        assert_eq!(sent(&b, V201)["idToken"]["type"], "ISO14443");
        b.id_token_type = Some(TokenKind::EMaid);
        assert_eq!(sent(&b, V201)["idToken"]["type"], "eMAID");
        assert_eq!(
            shown::<RemoteStartBody>(V201, json!({"status": "Accepted", "transactionId": "tx-9"})),
            json!({"status": "Accepted", "transaction_id": "tx-9"})
        );
    }
}
