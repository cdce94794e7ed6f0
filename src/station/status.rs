//! StatusNotification (OCPP 1.6 §4.9, 2.0.1 G01): keep each connector's latest status, and
//! open or clear the connector's `status` fault: a 1.6 error code other than `NoError`, or a
//! `Faulted` status in either version, opens it; a report without either clears it.

use chrono::{DateTime, Utc};
use entity::values::EventKind;
use rust_ocpp::v1_6::messages::status_notification as m16;
use rust_ocpp::v2_0_1::messages::status_notification as m201;
use serde_json::json;

use super::{Session, Station, StationError, bounds};
use crate::ocpp::enum_name;
use crate::store::{ConnectorStatus, FaultChange, FaultPlace, NewEvent};

/// The fault key of a connector's own status.
const STATUS_KEY: &str = "status";
const NO_ERROR: &str = "NoError";
const FAULTED: &str = "Faulted";

impl Station {
    async fn connector_status(&self, session: &mut Session, status: ConnectorStatus) -> Result<(), StationError> {
        let (events, faults) = status_fault(&status);
        self.store
            .record_connector_status(&session.charger_id, &status, events, faults)
            .await?;
        self.live.changed(&session.charger_id);
        self.seen(session).await
    }
}

/// What a connector status does to the connector's `status` fault.
fn status_fault(s: &ConnectorStatus) -> (Vec<NewEvent>, Vec<FaultChange>) {
    let place = FaultPlace {
        evse_id: s.evse_id,
        connector_id: s.connector_id,
        key: STATUS_KEY.into(),
    };
    let event = |gist: &str, at: DateTime<Utc>| NewEvent {
        evse_id: Some(s.evse_id),
        connector_id: Some(s.connector_id),
        detail: Some(json!({
            "status": s.status,
            "errorCode": s.error_code,
            "info": s.info,
            "vendorErrorCode": s.vendor_error_code,
        })),
        ..NewEvent::new(EventKind::Status, gist, at)
    };
    let code = match s.error_code.as_deref() {
        Some(code) if code != NO_ERROR => code,
        _ if s.status == FAULTED => FAULTED,
        _ => {
            let cleared = FaultChange::Clear {
                place,
                event: Some(event("Cleared", s.at)),
            };
            return (vec![], vec![cleared]);
        }
    };
    let opened = FaultChange::Open {
        place,
        code: code.to_owned(),
        info: s.info.clone().or_else(|| s.vendor_error_code.clone()),
        event: 0,
    };
    (vec![event(code, s.at)], vec![opened])
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

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: &str, error_code: Option<&str>) -> ConnectorStatus {
        ConnectorStatus {
            evse_id: 1,
            connector_id: 1,
            status: status.into(),
            error_code: error_code.map(Into::into),
            info: None,
            vendor_error_code: Some("V7".into()),
            at: Utc::now(),
        }
    }

    #[test]
    fn error_codes_and_faulted_open_the_status_fault() {
        let (events, faults) = status_fault(&status("Faulted", Some("GroundFailure")));
        assert_eq!(events[0].status, "GroundFailure");
        assert!(matches!(&faults[0], FaultChange::Open { code, info, .. }
            if code == "GroundFailure" && info.as_deref() == Some("V7")));
        let (_, faults) = status_fault(&status("Faulted", None));
        assert!(matches!(&faults[0], FaultChange::Open { code, .. } if code == "Faulted"));
    }

    #[test]
    fn a_healthy_status_clears_it() {
        let (events, faults) = status_fault(&status("Available", Some("NoError")));
        assert!(events.is_empty());
        assert!(matches!(&faults[0], FaultChange::Clear { place, event: Some(_) } if place.key == "status"));
    }
}
