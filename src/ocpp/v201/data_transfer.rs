//! DataTransfer (2.0.1 P01/P02). rust-ocpp types `data` as a string; the 2.0.1 schema allows
//! any JSON value there, so a charger sending an object would be refused.

use rust_ocpp::v2_0_1::datatypes::status_info_type::StatusInfoType;
use rust_ocpp::v2_0_1::enumerations::data_transfer_status_enum_type::DataTransferStatusEnumType;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ocpp::Text;

/// Vendor-specific data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataTransferRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<Text<50>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    pub vendor_id: Text<255>,
}

/// Whether the vendor and message were understood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataTransferResponse {
    pub status: DataTransferStatusEnumType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_info: Option<StatusInfoType>,
}
