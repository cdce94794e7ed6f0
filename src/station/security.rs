//! SecurityEventNotification (1.6 security whitepaper, 2.0.1 A04) and the certificate requests
//! a charger makes: SignCertificate (A02/A03), Get15118EVCertificate (M01/M02) and
//! GetCertificateStatus (M06). voltgate runs no certificate authority or OCSP proxy yet, so it
//! answers each request the way the specs say a CSMS without one does (`Rejected`/`Failed`)
//! and records the request, so maintenance sees that the charger asked.

use chrono::Utc;
use entity::values::EventKind;
use rust_ocpp::v2_0_1::datatypes::status_info_type::StatusInfoType;
use rust_ocpp::v2_0_1::enumerations::generic_status_enum_type::GenericStatusEnumType;
use rust_ocpp::v2_0_1::enumerations::get_certificate_status_enum_type::GetCertificateStatusEnumType;
use rust_ocpp::v2_0_1::enumerations::iso15118ev_certificate_status_enum_type::Iso15118EVCertificateStatusEnumType;
use rust_ocpp::v2_0_1::messages::{
    get_15118ev_certificate as ev201, get_certificate_status as ocsp201, security_event_notification as sec201,
    sign_certificate as sign201,
};
use serde_json::json;

use super::{Session, Station, StationError};
use crate::ocpp::enum_name;
use crate::ocpp::v16::{security_event_notification as sec16, sign_certificate as sign16};
use crate::store::NewEvent;

/// The security event types the specs mark critical (whitepaper and 2.0.1 appendix 1, "Security
/// events"): a charger sends these at once, even while offline they are queued.
const CRITICAL: &[&str] = &[
    "FirmwareUpdated",
    "SettingSystemTime",
    "StartupOfTheDevice",
    "ResetOrReboot",
    "SecurityLogWasCleared",
    "MemoryExhaustion",
    "TamperDetectionActivated",
];

/// Why a certificate request was not served; a `reasonCode` is at most 20 characters.
const NO_CA: &str = "NoCAConfigured";

fn no_ca() -> Option<StatusInfoType> {
    Some(StatusInfoType {
        reason_code: NO_CA.into(),
        additional_info: Some("this CSMS has no certificate authority configured".into()),
    })
}

impl Station {
    async fn security_event(
        &self,
        session: &mut Session,
        kind: &str,
        at: chrono::DateTime<Utc>,
        tech_info: Option<&str>,
    ) -> Result<(), StationError> {
        let critical = CRITICAL.contains(&kind);
        if critical {
            tracing::warn!(charger = %session.charger_id, kind, tech_info, "critical security event");
        }
        let event = NewEvent {
            critical,
            detail: tech_info.map(|info| json!({ "techInfo": info })),
            ..NewEvent::new(EventKind::Security, kind, self.clock().at(at).0)
        };
        self.record(session, vec![event], vec![]).await
    }

    /// Records a certificate request and what it was answered.
    async fn certificate_request(
        &self,
        session: &mut Session,
        action: &str,
        answer: &str,
        detail: serde_json::Value,
    ) -> Result<(), StationError> {
        let event = NewEvent {
            detail: Some(detail),
            ..NewEvent::new(EventKind::Certificate, format!("{action}: {answer}"), Utc::now())
        };
        self.record(session, vec![event], vec![]).await
    }
}

pub(super) async fn event_v16(
    station: &Station,
    session: &mut Session,
    req: sec16::SecurityEventNotificationRequest,
) -> Result<sec16::SecurityEventNotificationResponse, StationError> {
    station
        .security_event(session, &req.kind, req.timestamp, req.tech_info.as_deref())
        .await?;
    Ok(sec16::SecurityEventNotificationResponse {})
}

pub(super) async fn event_v201(
    station: &Station,
    session: &mut Session,
    req: sec201::SecurityEventNotificationRequest,
) -> Result<sec201::SecurityEventNotificationResponse, StationError> {
    super::bounds::text("type", &req.kind, 50)?;
    if let Some(info) = &req.tech_info {
        super::bounds::text("techInfo", info, 255)?;
    }
    station
        .security_event(session, &req.kind, req.timestamp, req.tech_info.as_deref())
        .await?;
    Ok(sec201::SecurityEventNotificationResponse {})
}

pub(super) async fn sign_v16(
    station: &Station,
    session: &mut Session,
    req: sign16::SignCertificateRequest,
) -> Result<sign16::SignCertificateResponse, StationError> {
    let detail = json!({ "csrLength": req.csr.len(), "reasonCode": NO_CA });
    station
        .certificate_request(session, "SignCertificate", "Rejected", detail)
        .await?;
    Ok(sign16::SignCertificateResponse {
        status: sign16::GenericStatus::Rejected,
    })
}

pub(super) async fn sign_v201(
    station: &Station,
    session: &mut Session,
    req: sign201::SignCertificateRequest,
) -> Result<sign201::SignCertificateResponse, StationError> {
    super::bounds::text("csr", &req.csr, 5500)?;
    let detail = json!({
        "csrLength": req.csr.len(),
        "certificateType": req.certificate_type.as_ref().map(enum_name),
        "reasonCode": NO_CA,
    });
    station
        .certificate_request(session, "SignCertificate", "Rejected", detail)
        .await?;
    Ok(sign201::SignCertificateResponse {
        status: GenericStatusEnumType::Rejected,
        status_info: no_ca(),
    })
}

pub(super) async fn ev_certificate_v201(
    station: &Station,
    session: &mut Session,
    req: ev201::Get15118EVCertificateRequest,
) -> Result<ev201::Get15118EVCertificateResponse, StationError> {
    super::bounds::text("iso15118SchemaVersion", &req.iso_15118_schema_version, 50)?;
    super::bounds::text("exiRequest", &req.exi_request, 5600)?;
    let detail = json!({
        "iso15118SchemaVersion": req.iso_15118_schema_version,
        "action": enum_name(&req.action),
        "exiRequestLength": req.exi_request.len(),
        "reasonCode": NO_CA,
    });
    station
        .certificate_request(session, "Get15118EVCertificate", "Failed", detail)
        .await?;
    Ok(ev201::Get15118EVCertificateResponse {
        status: Iso15118EVCertificateStatusEnumType::Failed,
        exi_response: String::new(),
        status_info: no_ca(),
    })
}

pub(super) async fn certificate_status_v201(
    station: &Station,
    session: &mut Session,
    req: ocsp201::GetCertificateStatusRequest,
) -> Result<ocsp201::GetCertificateStatusResponse, StationError> {
    let ocsp = &req.ocsp_request_data;
    let detail = json!({
        "serialNumber": ocsp.serial_number,
        "responderURL": ocsp.responder_url,
        "reasonCode": NO_CA,
    });
    station
        .certificate_request(session, "GetCertificateStatus", "Failed", detail)
        .await?;
    Ok(ocsp201::GetCertificateStatusResponse {
        status: GetCertificateStatusEnumType::Failed,
        ocsp_result: None,
        status_info: no_ca(),
    })
}
