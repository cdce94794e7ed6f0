//! DataTransfer from the charger (1.6 §4.3, 2.0.1 P02). voltgate knows no vendor extension, so
//! every vendor is answered `UnknownVendorId`, as both specs prescribe, and the message is
//! kept on the charger's timeline for whoever integrates that vendor.

use chrono::Utc;
use entity::values::EventKind;
use rust_ocpp::v1_6::messages::data_transfer as dt16;
use rust_ocpp::v1_6::types::DataTransferStatus;
use rust_ocpp::v2_0_1::enumerations::data_transfer_status_enum_type::DataTransferStatusEnumType;
use serde_json::{Value, json};

use super::{Session, Station, StationError, detail};
use crate::ocpp::v201::data_transfer as dt201;
use crate::store::NewEvent;

impl Station {
    async fn data_transfer(
        &self,
        session: &mut Session,
        vendor_id: &str,
        message_id: Option<&str>,
        data: Option<Value>,
    ) -> Result<(), StationError> {
        let event = NewEvent {
            detail: detail(&json!({ "messageId": message_id, "data": data, "answer": "UnknownVendorId" })),
            ..NewEvent::new(EventKind::DataTransfer, vendor_id, Utc::now())
        };
        self.record(session, vec![event], vec![]).await
    }
}

pub(super) async fn v16(
    station: &Station,
    session: &mut Session,
    req: dt16::DataTransferRequest,
) -> Result<dt16::DataTransferResponse, StationError> {
    super::bounds::text("vendorId", &req.vendor_string, 255)?;
    if let Some(id) = &req.message_id {
        super::bounds::text("messageId", id, 50)?;
    }
    station
        .data_transfer(
            session,
            &req.vendor_string,
            req.message_id.as_deref(),
            req.data.map(Value::String),
        )
        .await?;
    Ok(dt16::DataTransferResponse {
        status: DataTransferStatus::UnknownVendorId,
        data: None,
    })
}

pub(super) async fn v201(
    station: &Station,
    session: &mut Session,
    req: dt201::DataTransferRequest,
) -> Result<dt201::DataTransferResponse, StationError> {
    station
        .data_transfer(session, &req.vendor_id, req.message_id.as_deref(), req.data)
        .await?;
    Ok(dt201::DataTransferResponse {
        status: DataTransferStatusEnumType::UnknownVendorId,
        data: None,
        status_info: None,
    })
}
