//! UpdateFirmware, and signed firmware: 2.0.1 UpdateFirmware with a signing certificate and a
//! signature, 1.6 SignedUpdateFirmware (security whitepaper). Progress arrives later as
//! (Signed)FirmwareStatusNotification; 2.0.1 and signed 1.6 tie those to this command by the
//! request id. A charger refusing the signing certificate, or reporting a bad signature, is a
//! critical security event.

use chrono::{DateTime, Utc};
use rust_ocpp::v1_6::messages::update_firmware as f16;
use rust_ocpp::v2_0_1::{datatypes::firmware_type::FirmwareType, messages::update_firmware as f201};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::message::{Message, invalid};
use super::{CommandReply, Error, ReplyStatus};
use crate::ocpp::millis;
use crate::ocpp::v16::signed_update_firmware as s16;

/// `POST /chargers/{id}/firmware`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FirmwareBody {
    /// URI the charger downloads the firmware from.
    pub location: String,
    /// When to start downloading (default: now).
    pub retrieve_at: Option<DateTime<Utc>>,
    pub retries: Option<i32>,
    pub retry_interval_s: Option<i32>,
    /// Signed firmware: the PEM certificate the signature was made with (with `signature`).
    #[schema(max_length = 5500)]
    pub signing_certificate: Option<String>,
    /// Signed firmware: the firmware file's signature, base64 (with `signing_certificate`).
    #[schema(max_length = 800)]
    pub signature: Option<String>,
}

/// A firmware update the charger checks before installing (2.0.1 UpdateFirmware with its
/// signature, 1.6 SignedUpdateFirmware).
#[derive(Debug, Clone, Serialize)]
pub struct SignedFirmwareBody(pub FirmwareBody);

impl FirmwareBody {
    fn retrieve_at(&self) -> DateTime<Utc> {
        millis(self.retrieve_at.unwrap_or_else(Utc::now))
    }

    /// The command this body is: signed when it carries a signature.
    pub fn into_command(self) -> super::Command {
        if self.signing_certificate.is_some() || self.signature.is_some() {
            super::Command::SignedFirmware(SignedFirmwareBody(self))
        } else {
            super::Command::UpdateFirmware(self)
        }
    }

    /// The signing certificate and signature, both or neither.
    fn signing(&self) -> Result<Option<(String, String)>, Error> {
        match (&self.signing_certificate, &self.signature) {
            (None, None) => Ok(None),
            (Some(cert), Some(sig)) => {
                if cert.len() > 5500 || !cert.contains("BEGIN CERTIFICATE") {
                    return Err(invalid(
                        "signing_certificate",
                        "must be one PEM certificate (at most 5,500 characters)",
                    ));
                }
                if sig.is_empty() || sig.len() > 800 {
                    return Err(invalid("signature", "must be 1 to 800 characters of base64"));
                }
                Ok(Some((cert.clone(), sig.clone())))
            }
            (Some(_), None) => Err(invalid("signature", "is required with signing_certificate")),
            (None, Some(_)) => Err(invalid("signing_certificate", "is required with signature")),
        }
    }
}

impl Message for FirmwareBody {
    type V16 = f16::UpdateFirmwareRequest;
    type V201 = f201::UpdateFirmwareRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        if self.signing()?.is_some() {
            return Err(invalid(
                "signature",
                "a 1.6 charger takes signed firmware as SignedUpdateFirmware",
            ));
        }
        Ok(f16::UpdateFirmwareRequest {
            location: self.location.clone(),
            retries: self.retries,
            retrieve_date: self.retrieve_at(),
            retry_interval: self.retry_interval_s,
        })
    }

    fn v201(&self, request_id: i32) -> Result<Self::V201, Error> {
        let signing = self.signing()?;
        Ok(f201::UpdateFirmwareRequest {
            retries: self.retries,
            retry_interval: self.retry_interval_s,
            request_id,
            firmware: FirmwareType {
                location: self.location.clone(),
                retrieve_date_time: self.retrieve_at(),
                install_date_time: None,
                signing_certificate: signing.as_ref().map(|(cert, _)| cert.clone()),
                signature: signing.map(|(_, sig)| sig),
            },
        })
    }
}

impl Message for SignedFirmwareBody {
    type V16 = s16::SignedUpdateFirmwareRequest;
    type V201 = f201::UpdateFirmwareRequest;

    fn v16(&self, request_id: i32) -> Result<Self::V16, Error> {
        let b = &self.0;
        let (signing_certificate, signature) = b
            .signing()?
            .ok_or_else(|| invalid("signature", "signed firmware needs a signature"))?;
        Ok(s16::SignedUpdateFirmwareRequest {
            retries: b.retries,
            retry_interval: b.retry_interval_s,
            request_id,
            firmware: s16::Firmware {
                location: b.location.clone(),
                retrieve_date_time: b.retrieve_at(),
                install_date_time: None,
                signing_certificate,
                signature,
            },
        })
    }

    fn v201(&self, request_id: i32) -> Result<Self::V201, Error> {
        self.0.v201(request_id)
    }
}

/// A charger that refused the signing certificate: a critical security event on its timeline.
pub(super) async fn refused_certificate(state: &crate::state::AppState, charger_id: &str, reply: &CommandReply) {
    if !matches!(
        reply.status,
        ReplyStatus::InvalidCertificate | ReplyStatus::RevokedCertificate
    ) {
        return;
    }
    let event = crate::store::NewEvent {
        critical: true,
        detail: Some(serde_json::json!({ "status": reply.status.as_str() })),
        ..crate::store::NewEvent::new(
            entity::values::EventKind::Security,
            "InvalidFirmwareSigningCertificate",
            Utc::now(),
        )
    };
    if let Err(e) = state.store.record_events(charger_id, vec![event], vec![]).await {
        tracing::error!(error = %e, charger = charger_id, "firmware certificate refusal not recorded");
    }
}

/// 1.6 UpdateFirmware.conf has no fields: answering at all is acceptance.
impl From<f16::UpdateFirmwareResponse> for CommandReply {
    fn from(_: f16::UpdateFirmwareResponse) -> Self {
        CommandReply::status(ReplyStatus::Accepted, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn the_2_0_1_request_carries_the_request_id_and_1_6_times_have_milliseconds() {
        let b = FirmwareBody {
            location: "https://fw.example/1.bin".into(),
            retrieve_at: None,
            retries: Some(2),
            retry_interval_s: None,
            signing_certificate: None,
            signature: None,
        };
        let v201 = sent(&b, V201);
        assert_eq!(v201["requestId"], json!(7));
        assert_eq!(v201["firmware"]["location"], json!("https://fw.example/1.bin"));
        let v16 = sent(&b, V16);
        let at = v16["retrieveDate"].as_str().unwrap();
        assert!(at.len() <= "2026-12-01T21:35:20.348Z".len(), "{at}");
        assert!(v16.get("retryInterval").is_none(), "{v16}");
        assert_eq!(shown::<FirmwareBody>(V16, json!({})), json!({"status": "Accepted"}));
    }
}
