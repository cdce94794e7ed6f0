//! StatusNotification (OCPP 1.6 §4.9, 2.0.1 G01): keep each connector's latest status.

use chrono::Utc;
use rust_ocpp::v1_6::messages::status_notification as m16;
use rust_ocpp::v2_0_1::messages::status_notification as m201;

use super::{Session, Station, StationError, bounds};
use crate::ocpp::enum_name;
use crate::store::ConnectorStatus;

impl Station {
    async fn connector_status(&self, session: &mut Session, status: ConnectorStatus) -> Result<(), StationError> {
        self.store.record_connector_status(&session.charger_id, &status).await?;
        self.seen(session).await
    }
}

pub(super) async fn v16(
    station: &Station,
    session: &mut Session,
    req: m16::StatusNotificationRequest,
) -> Result<m16::StatusNotificationResponse, StationError> {
    // 1.6 connectors are EVSEs of one connector each; see `entity::connector`. 0 is the
    // charger itself.
    let id = bounds::id("connectorId", req.connector_id, 0)?;
    let status = ConnectorStatus {
        evse_id: id,
        connector_id: id,
        status: enum_name(&req.status),
        error_code: Some(enum_name(&req.error_code)),
        info: req.info,
        vendor_error_code: req.vendor_error_code,
        at: req.timestamp.map_or_else(Utc::now, |t| station.clock().at(t).0),
    };
    station.connector_status(session, status).await?;
    Ok(m16::StatusNotificationResponse {})
}

pub(super) async fn v201(
    station: &Station,
    session: &mut Session,
    req: m201::StatusNotificationRequest,
) -> Result<m201::StatusNotificationResponse, StationError> {
    let status = ConnectorStatus {
        evse_id: bounds::id("evseId", req.evse_id, 1)?,
        connector_id: bounds::id("connectorId", req.connector_id, 1)?,
        status: enum_name(&req.connector_status),
        error_code: None,
        info: None,
        vendor_error_code: None,
        at: station.clock().at(req.timestamp).0,
    };
    station.connector_status(session, status).await?;
    Ok(m201::StatusNotificationResponse {})
}
