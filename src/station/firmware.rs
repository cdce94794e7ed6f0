//! FirmwareStatusNotification (1.6 §4.5, 2.0.1 L01), DiagnosticsStatusNotification (1.6 §4.4)
//! and LogStatusNotification (2.0.1 N01): keep the latest status and its history, linked to
//! the command that started the update or upload.

use chrono::Utc;
use rust_ocpp::v1_6::messages::{diagnostics_status_notification as diag16, firmware_status_notification as fw16};
use rust_ocpp::v2_0_1::messages::{firmware_status_notification as fw201, log_status_notification as log201};

use super::{Session, Station, StationError};
use crate::ocpp::enum_name;
use crate::store::EventKind;

impl Station {
    async fn status_event(
        &self,
        session: &mut Session,
        kind: EventKind,
        status: String,
        request_id: Option<i32>,
    ) -> Result<(), StationError> {
        self.store
            .record_charger_event(&session.charger_id, kind, &status, request_id, Utc::now())
            .await?;
        tracing::info!(charger = %session.charger_id, ?kind, %status, "status notification");
        self.seen(session).await
    }
}

pub(super) async fn firmware_v16(
    station: &Station,
    session: &mut Session,
    req: fw16::FirmwareStatusNotificationRequest,
) -> Result<fw16::FirmwareStatusNotificationResponse, StationError> {
    station
        .status_event(session, EventKind::Firmware, enum_name(&req.status), None)
        .await?;
    Ok(fw16::FirmwareStatusNotificationResponse {})
}

pub(super) async fn diagnostics_v16(
    station: &Station,
    session: &mut Session,
    req: diag16::DiagnosticsStatusNotificationRequest,
) -> Result<diag16::DiagnosticsStatusNotificationResponse, StationError> {
    station
        .status_event(session, EventKind::Diagnostics, enum_name(&req.status), None)
        .await?;
    Ok(diag16::DiagnosticsStatusNotificationResponse {})
}

pub(super) async fn firmware_v201(
    station: &Station,
    session: &mut Session,
    req: fw201::FirmwareStatusNotificationRequest,
) -> Result<fw201::FirmwareStatusNotificationResponse, StationError> {
    station
        .status_event(session, EventKind::Firmware, enum_name(&req.status), req.request_id)
        .await?;
    Ok(fw201::FirmwareStatusNotificationResponse {})
}

pub(super) async fn log_v201(
    station: &Station,
    session: &mut Session,
    req: log201::LogStatusNotificationRequest,
) -> Result<log201::LogStatusNotificationResponse, StationError> {
    station
        .status_event(session, EventKind::Diagnostics, enum_name(&req.status), req.request_id)
        .await?;
    Ok(log201::LogStatusNotificationResponse {})
}
