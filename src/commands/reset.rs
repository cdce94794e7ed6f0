//! Reset: 1.6 Soft/Hard, 2.0.1 OnIdle/Immediate.

use rust_ocpp::v1_6::{messages::reset as r16, types::ResetRequestStatus};
use rust_ocpp::v2_0_1::{enumerations::reset_enum_type::ResetEnumType, messages::reset as r201};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Error;
use super::message::Message;

/// `POST /chargers/{id}/reset`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetBody {
    /// `soft` (2.0.1: OnIdle) or `hard` (2.0.1: Immediate).
    #[serde(rename = "type")]
    pub kind: ResetKind,
}

/// Soft or hard reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ResetKind {
    Soft,
    Hard,
}

impl Message for ResetBody {
    type V16 = r16::ResetRequest;
    type V201 = r201::ResetRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        let kind = match self.kind {
            ResetKind::Soft => ResetRequestStatus::Soft,
            ResetKind::Hard => ResetRequestStatus::Hard,
        };
        Ok(r16::ResetRequest { kind })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        let request_type = match self.kind {
            ResetKind::Soft => ResetEnumType::OnIdle,
            ResetKind::Hard => ResetEnumType::Immediate,
        };
        Ok(r201::ResetRequest {
            request_type,
            evse_id: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn soft_and_hard_in_each_version() {
        let soft = ResetBody { kind: ResetKind::Soft };
        let hard = ResetBody { kind: ResetKind::Hard };
        assert_eq!(sent(&soft, V16), json!({"type": "Soft"}));
        assert_eq!(sent(&hard, V16), json!({"type": "Hard"}));
        assert_eq!(sent(&soft, V201), json!({"type": "OnIdle"}));
        assert_eq!(sent(&hard, V201), json!({"type": "Immediate"}));
    }

    #[test]
    fn a_2_0_1_reason_reaches_the_caller() {
        let answer =
            json!({"status": "Rejected", "statusInfo": {"reasonCode": "TxInProgress", "additionalInfo": "EVSE 1"}});
        assert_eq!(
            shown::<ResetBody>(V201, answer),
            json!({"status": "Rejected", "status_info": {"reason_code": "TxInProgress", "additional_info": "EVSE 1"}})
        );
        assert!(crate::commands::message::answer::<ResetBody>(V16, json!({"status": "Scheduled"})).is_err());
    }
}
