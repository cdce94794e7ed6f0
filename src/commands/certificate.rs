//! A charger's own certificate from voltgate's CA (2.0.1 A02/A03, the 1.6 security white
//! paper): asking the charger for a CSR (2.0.1 TriggerMessage `SignChargingStationCertificate`,
//! 1.6 ExtendedTriggerMessage `SignChargePointCertificate`), signing the CSRs the station
//! accepted and sending the chain back (CertificateSigned), and asking again
//! `ca.renew_before_days` before the certificate expires. Every step is a command, so each is
//! gated and audited like any other (by the platform when voltgate does it by itself).

use std::time::Duration;

use chrono::{DateTime, Utc};
use rust_ocpp::v2_0_1::enumerations::certificate_signing_use_enum_type::CertificateSigningUseEnumType;
use rust_ocpp::v2_0_1::enumerations::message_trigger_enum_type::MessageTriggerEnumType;
use rust_ocpp::v2_0_1::messages::{certificate_signed as cs201, trigger_message as t201};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use super::message::Message;
use super::{Command, CommandReply, Error, ReplyStatus, platform_for};
use crate::access::{Authorized, cap};
use crate::ocpp::v16::{certificate_signed as cs16, extended_trigger_message as et16};
use crate::state::AppState;
use crate::station::SigningJob;
use entity::charger;

/// `POST /chargers/{id}/certificate`: asks the charger for a CSR (it then sends
/// SignCertificate, and gets its certificate as CertificateSigned). Needs `[ca]`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateRequest {}

impl Message for CertificateRequest {
    type V16 = et16::ExtendedTriggerMessageRequest;
    type V201 = t201::TriggerMessageRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(et16::ExtendedTriggerMessageRequest {
            requested_message: et16::ExtendedMessageTrigger::SignChargePointCertificate,
            connector_id: None,
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        Ok(t201::TriggerMessageRequest {
            requested_message: MessageTriggerEnumType::SignChargingStationCertificate,
            evse: None,
        })
    }
}

/// The chain signed for a charger's CSR, sent back as CertificateSigned (never an API body;
/// the audit row keeps the serial and expiry, not the chain).
#[derive(Debug, Clone, Serialize)]
pub struct CertificateSignedBody {
    #[serde(skip)]
    chain: String,
    #[serde(skip)]
    certificate_type: Option<CertificateSigningUseEnumType>,
    pub serial: String,
    pub expires_at: DateTime<Utc>,
}

impl Message for CertificateSignedBody {
    type V16 = cs16::CertificateSignedRequest;
    type V201 = cs201::CertificateSignedRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(cs16::CertificateSignedRequest {
            certificate_chain: self.chain.clone(),
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        Ok(cs201::CertificateSignedRequest {
            certificate_chain: self.chain.clone(),
            certificate_type: self.certificate_type.clone(),
        })
    }
}

/// A request for a CSR needs a CA to sign it: refused before anything is sent.
pub(super) fn check_ca(state: &AppState) -> Result<(), Error> {
    match state.ca {
        Some(_) => Ok(()),
        None => Err(Error::Service(crate::services::Error::Conflict(
            "no certificate authority is configured ([ca] in the configuration; `voltgate ca init` makes one)".into(),
        ))),
    }
}

/// What a charger's answer means for its stored certificate state.
pub(super) async fn settle(
    state: &AppState,
    may: &Authorized<cap::ChargerSecurity>,
    c: &charger::Model,
    cmd: &Command,
    result: &Result<CommandReply, Error>,
) {
    let Ok(reply) = result else { return };
    if reply.status != ReplyStatus::Accepted {
        return;
    }
    let store = &state.store;
    let stored = match cmd {
        Command::CertificateSigned(b) => store.record_certificate(may, c, &b.serial, b.expires_at).await,
        Command::RequestCertificate(_) => store.note_certificate_requested(may, c).await,
        _ => return,
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, charger = %c.id, "could not record a charger's certificate");
    }
}

/// Signs the CSRs the station accepted and sends each charger its chain, until `shutdown`.
/// Renewal runs beside it, every [`RENEW_EVERY`].
pub fn spawn(state: AppState, shutdown: CancellationToken) {
    let Some(mut jobs) = state.gateway.station().take_signing_jobs() else {
        return;
    };
    if state.ca.is_none() {
        return;
    }
    tokio::spawn(async move {
        let mut renew = tokio::time::interval(RENEW_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                Some(job) = jobs.recv() => sign_and_send(&state, job).await,
                _ = renew.tick() => { renew_due(&state).await; }
            }
        }
    });
}

/// How often certificates near their end are looked for, and how many chargers are asked at once.
const RENEW_EVERY: Duration = Duration::from_secs(600);
const RENEW_BATCH: u64 = 100;

async fn sign_and_send(state: &AppState, job: SigningJob) {
    let Some(ca) = &state.ca else { return };
    let id = job.charger_id.as_str().to_owned();
    let issued = match ca.sign(job.csr) {
        Ok(issued) => issued,
        Err(e) => {
            tracing::error!(error = %e, charger = %id, "could not sign a charger's CSR");
            return;
        }
    };
    let found = match state.store.charger(&id).await {
        Ok(Some(c)) => platform_for(state, &c).await,
        Ok(None) => return,
        Err(e) => Err(e),
    };
    let platform = match found {
        Ok(Some(platform)) => platform,
        Ok(None) => return,
        Err(e) => {
            // The charger asks again after its own back-off (2.0.1 CertSigningWaitMinimum).
            tracing::error!(error = %e, charger = %id, "the signed certificate was not sent: the charger was not read");
            return;
        }
    };
    let cmd = Command::CertificateSigned(CertificateSignedBody {
        chain: issued.chain_pem,
        certificate_type: job.certificate_type,
        serial: issued.serial,
        expires_at: issued.not_after,
    });
    match super::execute(state, &platform, &id, cmd).await {
        Ok(reply) if reply.status == ReplyStatus::Accepted => {
            tracing::info!(charger = %id, "charger installed the certificate voltgate's CA issued it");
        }
        Ok(reply) => tracing::warn!(charger = %id, status = %reply.status, "charger refused its signed certificate"),
        Err(e) => tracing::warn!(charger = %id, error = %e, "signed certificate not delivered"),
    }
}

/// Asks chargers connected here whose certificate ends within `ca.renew_before_days` for a new
/// CSR (at most once a day each); returns how many agreed.
pub async fn renew_due(state: &AppState) -> usize {
    let Some(ca) = &state.config.ca else { return 0 };
    let now = Utc::now();
    let before = now + chrono::Duration::days(i64::from(ca.renew_before_days));
    let due = match state
        .store
        .certificates_to_renew(before, now - chrono::Duration::days(1), RENEW_BATCH)
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "certificates due for renewal not read");
            return 0;
        }
    };
    let cmd = || Command::RequestCertificate(CertificateRequest {});
    super::as_platform_here(state, due, "certificate renewal", cmd).await
}
