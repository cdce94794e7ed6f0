//! FirmwareStatusNotification (1.6 §4.5, 2.0.1 L01), SignedFirmwareStatusNotification (1.6
//! security whitepaper), DiagnosticsStatusNotification (1.6 §4.4) and LogStatusNotification
//! (1.6 whitepaper, 2.0.1 N01): keep the latest status and its history, linked to the command
//! that started the update or upload. PublishFirmwareStatusNotification (2.0.1 L03, a local
//! controller serving firmware to its stations) only goes on the timeline.

use chrono::Utc;
use entity::values::EventKind;
use rust_ocpp::v1_6::messages::{diagnostics_status_notification as diag16, firmware_status_notification as fw16};
use rust_ocpp::v2_0_1::messages::{
    firmware_status_notification as fw201, log_status_notification as log201,
    publish_firmware_status_notification as publish201,
};

use super::{Session, Station, StationError, detail};
use crate::ocpp::enum_name;
use crate::ocpp::v16::{log_status_notification as log16, signed_firmware_status_notification as signed16};
use crate::store::{NewEvent, Progress};

impl Station {
    async fn progress(
        &self,
        session: &mut Session,
        kind: Progress,
        status: String,
        request_id: Option<i32>,
    ) -> Result<(), StationError> {
        self.store
            .record_progress(&session.charger_id, kind, &status, request_id, Utc::now())
            .await?;
        self.live.changed(&session.charger_id);
        tracing::info!(charger = %session.charger_id, ?kind, %status, "status notification");
        if kind == Progress::Firmware && status == "InvalidSignature" {
            // Firmware that fails its signature check may be an attack, not a bad download.
            tracing::warn!(charger = %session.charger_id, "firmware signature invalid");
            let event = NewEvent {
                critical: true,
                detail: Some(serde_json::json!({ "requestId": request_id })),
                ..NewEvent::new(EventKind::Security, "InvalidFirmwareSignature", Utc::now())
            };
            return self.record(session, vec![event], vec![]).await;
        }
        self.seen(session).await
    }
}

pub(super) async fn firmware_v16(
    station: &Station,
    session: &mut Session,
    req: fw16::FirmwareStatusNotificationRequest,
) -> Result<fw16::FirmwareStatusNotificationResponse, StationError> {
    station
        .progress(session, Progress::Firmware, enum_name(&req.status), None)
        .await?;
    Ok(fw16::FirmwareStatusNotificationResponse {})
}

pub(super) async fn signed_firmware_v16(
    station: &Station,
    session: &mut Session,
    req: signed16::SignedFirmwareStatusNotificationRequest,
) -> Result<signed16::SignedFirmwareStatusNotificationResponse, StationError> {
    station
        .progress(session, Progress::Firmware, enum_name(&req.status), req.request_id)
        .await?;
    Ok(signed16::SignedFirmwareStatusNotificationResponse {})
}

pub(super) async fn diagnostics_v16(
    station: &Station,
    session: &mut Session,
    req: diag16::DiagnosticsStatusNotificationRequest,
) -> Result<diag16::DiagnosticsStatusNotificationResponse, StationError> {
    station
        .progress(session, Progress::Diagnostics, enum_name(&req.status), None)
        .await?;
    Ok(diag16::DiagnosticsStatusNotificationResponse {})
}

pub(super) async fn log_v16(
    station: &Station,
    session: &mut Session,
    req: log16::LogStatusNotificationRequest,
) -> Result<log16::LogStatusNotificationResponse, StationError> {
    station
        .progress(session, Progress::Diagnostics, enum_name(&req.status), req.request_id)
        .await?;
    Ok(log16::LogStatusNotificationResponse {})
}

pub(super) async fn firmware_v201(
    station: &Station,
    session: &mut Session,
    req: fw201::FirmwareStatusNotificationRequest,
) -> Result<fw201::FirmwareStatusNotificationResponse, StationError> {
    station
        .progress(session, Progress::Firmware, enum_name(&req.status), req.request_id)
        .await?;
    Ok(fw201::FirmwareStatusNotificationResponse {})
}

pub(super) async fn log_v201(
    station: &Station,
    session: &mut Session,
    req: log201::LogStatusNotificationRequest,
) -> Result<log201::LogStatusNotificationResponse, StationError> {
    station
        .progress(session, Progress::Diagnostics, enum_name(&req.status), req.request_id)
        .await?;
    Ok(log201::LogStatusNotificationResponse {})
}

pub(super) async fn publish_v201(
    station: &Station,
    session: &mut Session,
    req: publish201::PublishFirmwareStatusNotificationRequest,
) -> Result<publish201::PublishFirmwareStatusNotificationResponse, StationError> {
    let event = NewEvent {
        request_id: req.request_id,
        detail: detail(&req),
        ..NewEvent::new(
            EventKind::Firmware,
            format!("Publish {}", enum_name(&req.status)),
            Utc::now(),
        )
    };
    station.record(session, vec![event], vec![]).await?;
    Ok(publish201::PublishFirmwareStatusNotificationResponse {})
}
