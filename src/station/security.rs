//! SecurityEventNotification (1.6 security whitepaper, 2.0.1 A04) and the certificate requests
//! a charger makes: SignCertificate (A02/A03), Get15118EVCertificate (M01/M02) and
//! GetCertificateStatus (M06).
//!
//! With `[ca]`, a SignCertificate whose CSR names this charger is `Accepted` and queued for
//! signing (the commands layer signs it and sends CertificateSigned); any other CSR is
//! `Rejected` and recorded as a critical security event. Without a CA, and for 15118 and OCSP
//! (no proxy yet), each request is answered the way the specs say a CSMS without one does
//! (`Rejected`/`Failed`) and recorded, so maintenance sees that the charger asked.

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
use crate::ca::{CheckedCsr, CsrRefusal};
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
const INVALID_CSR: &str = "InvalidCSR";
const QUEUE_FULL: &str = "SigningQueueFull";

/// A CSR the station accepted, for the commands layer to sign and send back.
#[derive(Debug)]
pub struct SigningJob {
    pub charger_id: crate::ocpp::ChargerId,
    pub csr: CheckedCsr,
    /// What a 2.0.1 charger asked the certificate for (CertificateSigned names it back).
    pub certificate_type:
        Option<rust_ocpp::v2_0_1::enumerations::certificate_signing_use_enum_type::CertificateSigningUseEnumType>,
}

/// What became of a SignCertificate, as the charger is told and the timeline records it.
enum Signing {
    Queued,
    NoCa,
    Refused(CsrRefusal),
    Busy,
}

impl Signing {
    fn accepted(&self) -> bool {
        matches!(self, Signing::Queued)
    }

    fn reason(&self) -> Option<&'static str> {
        match self {
            Signing::Queued => None,
            Signing::NoCa => Some(NO_CA),
            Signing::Refused(_) => Some(INVALID_CSR),
            Signing::Busy => Some(QUEUE_FULL),
        }
    }
}

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

    /// Checks a CSR against the charger it came from and queues it for signing; a CSR for any
    /// other identity is a critical security event.
    async fn sign_request(
        &self,
        session: &mut Session,
        csr: &str,
        certificate_type: Option<
            rust_ocpp::v2_0_1::enumerations::certificate_signing_use_enum_type::CertificateSigningUseEnumType,
        >,
    ) -> Result<Signing, StationError> {
        let Some(ca) = &self.ca else {
            return Ok(Signing::NoCa);
        };
        let csr = match ca.check(csr, session.charger_id.as_str()) {
            Ok(csr) => csr,
            Err(refusal) => {
                tracing::warn!(charger = %session.charger_id, %refusal, "CSR refused");
                let event = NewEvent {
                    critical: true,
                    detail: Some(json!({ "reason": refusal.to_string() })),
                    ..NewEvent::new(EventKind::Security, "InvalidCsr", Utc::now())
                };
                self.record(session, vec![event], vec![]).await?;
                return Ok(Signing::Refused(refusal));
            }
        };
        let job = SigningJob {
            charger_id: session.charger_id.clone(),
            csr,
            certificate_type,
        };
        Ok(match self.signing.try_send(job) {
            Ok(()) => Signing::Queued,
            Err(_) => Signing::Busy,
        })
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
    let signing = station.sign_request(session, &req.csr, None).await?;
    let answer = if signing.accepted() { "Accepted" } else { "Rejected" };
    let detail = json!({ "csrLength": req.csr.len(), "reasonCode": signing.reason() });
    station
        .certificate_request(session, "SignCertificate", answer, detail)
        .await?;
    Ok(sign16::SignCertificateResponse {
        status: if signing.accepted() {
            sign16::GenericStatus::Accepted
        } else {
            sign16::GenericStatus::Rejected
        },
    })
}

pub(super) async fn sign_v201(
    station: &Station,
    session: &mut Session,
    req: sign201::SignCertificateRequest,
) -> Result<sign201::SignCertificateResponse, StationError> {
    super::bounds::text("csr", &req.csr, 5500)?;
    let signing = station
        .sign_request(session, &req.csr, req.certificate_type.clone())
        .await?;
    let answer = if signing.accepted() { "Accepted" } else { "Rejected" };
    let detail = json!({
        "csrLength": req.csr.len(),
        "certificateType": req.certificate_type.as_ref().map(enum_name),
        "reasonCode": signing.reason(),
    });
    station
        .certificate_request(session, "SignCertificate", answer, detail)
        .await?;
    let status_info = match &signing {
        Signing::Queued => None,
        Signing::NoCa => no_ca(),
        Signing::Refused(why) => Some(StatusInfoType {
            reason_code: INVALID_CSR.into(),
            additional_info: Some(why.to_string()),
        }),
        Signing::Busy => Some(StatusInfoType {
            reason_code: QUEUE_FULL.into(),
            additional_info: Some("too many certificates waiting to be signed; ask again later".into()),
        }),
    };
    Ok(sign201::SignCertificateResponse {
        status: if signing.accepted() {
            GenericStatusEnumType::Accepted
        } else {
            GenericStatusEnumType::Rejected
        },
        status_info,
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
