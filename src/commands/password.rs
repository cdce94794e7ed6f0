//! Rotating a charger's HTTP Basic password without a site visit (2.0.1 A01: SetVariables
//! `SecurityCtrlr.BasicAuthPassword`; 1.6 security white paper: ChangeConfiguration
//! `AuthorizationKey`, hex-encoded).
//!
//! The new password is stored as an offer before it is sent, and every offer is accepted at
//! the charger's handshake until it is seen using one (`station::admission`), so no order of
//! answers, timeouts and reconnects locks a charger out: a refusal or CALLERROR withdraws the
//! offer, a timeout or a lost connection leaves both passwords working, and the first
//! handshake with the new one ends the old one.

use std::time::Duration;

use chrono::Utc;
use entity::values::PasswordOfferState;
use rust_ocpp::v1_6::messages::change_configuration as c16;
use rust_ocpp::v2_0_1::datatypes::{
    component_type::ComponentType, set_variable_data_type::SetVariableDataType, variable_type::VariableType,
};
use rust_ocpp::v2_0_1::messages::set_variables as s201;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use super::message::{Message, invalid};
use super::{CommandReply, Error};
use crate::access::{Authorized, cap};
use crate::ocpp::OcppVersion;
use crate::services;
use crate::state::AppState;
use entity::charger;

/// The 2.0.1 component and variable that hold the password.
const COMPONENT: &str = "SecurityCtrlr";
const VARIABLE: &str = "BasicAuthPassword";
/// The 1.6 configuration key.
const KEY_16: &str = "AuthorizationKey";
/// What a generated password is long: 2.0.1 takes 16 to 40 characters, the 1.6 white paper
/// 16 to 20 bytes.
const GENERATED_201: usize = 32;
const GENERATED_16: usize = 20;
/// The characters OCPP 2.0.1's `passwordString` allows besides letters and digits.
const SPECIAL: &str = "*-_=:+|@.";

/// `POST /chargers/{id}/password` (2.0.1 SetVariables `SecurityCtrlr.BasicAuthPassword`, 1.6
/// ChangeConfiguration `AuthorizationKey`)
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    /// The new password; generated when omitted (32 letters and digits for 2.0.1, 20 for 1.6)
    /// and then shown once in the answer. 2.0.1: 16 to 40 characters; 1.6: 16 to 20. Letters,
    /// digits and `*-_=:+|@.`.
    #[serde(default, skip_serializing)]
    #[schema(min_length = 16, max_length = 40)]
    pub password: Option<String>,
    /// Set by voltgate once it generated the password (never read from a request).
    #[serde(skip)]
    pub(super) generated: bool,
}

impl PasswordBody {
    /// Generates the password if none was given, and checks it against what `version` allows.
    pub(super) fn choose(&mut self, version: OcppVersion) -> Result<(), Error> {
        let (range, unit) = match version {
            OcppVersion::V16 => (16..=20, "bytes"),
            OcppVersion::V201 => (16..=40, "characters"),
        };
        let password = match &self.password {
            Some(given) => given,
            None => {
                self.generated = true;
                let len = if version == OcppVersion::V16 {
                    GENERATED_16
                } else {
                    GENERATED_201
                };
                self.password.insert(crate::crypto::random_password(len))
            }
        };
        let len = if version == OcppVersion::V16 {
            password.len()
        } else {
            password.chars().count()
        };
        if !range.contains(&len) {
            return Err(invalid(
                "password",
                format!(
                    "must be {} to {} {unit} for this charger's OCPP version",
                    range.start(),
                    range.end()
                ),
            ));
        }
        if !password
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SPECIAL.contains(c))
        {
            return Err(invalid(
                "password",
                format!("may hold letters, digits and {SPECIAL} only"),
            ));
        }
        Ok(())
    }

    fn password(&self) -> Result<&str, Error> {
        self.password
            .as_deref()
            .ok_or_else(|| Error::Internal("password change sent before a password was chosen".into()))
    }

    /// The password to show the caller: only one voltgate generated.
    pub(super) fn shown(&self) -> Option<String> {
        self.generated.then(|| self.password.clone()).flatten()
    }
}

impl Message for PasswordBody {
    type V16 = c16::ChangeConfigurationRequest;
    type V201 = s201::SetVariablesRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        // The white paper: the key is sent hex-encoded, the charger decodes it.
        let hex = self.password()?.bytes().map(|b| format!("{b:02X}")).collect();
        Ok(c16::ChangeConfigurationRequest {
            key: KEY_16.into(),
            value: hex,
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        Ok(s201::SetVariablesRequest {
            set_variable_data: vec![SetVariableDataType {
                attribute_type: None,
                attribute_value: self.password()?.to_owned(),
                component: ComponentType {
                    name: COMPONENT.into(),
                    instance: None,
                    evse: None,
                },
                variable: VariableType {
                    name: VARIABLE.into(),
                    instance: None,
                },
            }],
        })
    }
}

/// Stores the chosen password as an offer before it is sent. A charger whose answer says it
/// took the password may connect with it at any moment after, even before that answer is read.
pub(super) async fn offer(
    state: &AppState,
    proof: &Authorized<cap::ChargerSecurity>,
    charger: &charger::Model,
    body: &PasswordBody,
) -> Result<i64, Error> {
    let source = if body.generated {
        services::chargers::PasswordSource::Generated
    } else {
        services::chargers::PasswordSource::Chosen
    };
    let hash = services::chargers::hash(state, body.password()?, source).await?;
    Ok(state
        .store
        .offer_password(proof, charger, hash)
        .await
        .map_err(services::Error::from)?)
}

/// What the command's end means for the offer: taken, refused (withdrawn), or unknown (kept,
/// so a charger that took it without its answer arriving can still connect).
pub(super) async fn settle(state: &AppState, offer_id: i64, result: &Result<CommandReply, Error>) {
    let outcome = match result {
        Ok(reply) if reply.status.took() => Some(PasswordOfferState::Accepted),
        Ok(_) => None,
        Err(e) if e.surely_not_taken() => None,
        Err(_) => Some(PasswordOfferState::Unanswered),
    };
    let store = &state.store;
    let stored = match outcome {
        Some(s) => store.settle_password_offer(offer_id, s).await,
        None => store.withdraw_password_offer(offer_id).await,
    };
    if let Err(e) = stored {
        tracing::error!(error = %e, offer_id, "could not record what became of a password change");
    }
}

/// How often scheduled rotation looks for old passwords, and how many it changes per look.
const ROTATE_EVERY: Duration = Duration::from_secs(600);
const ROTATE_BATCH: u64 = 100;

/// Starts scheduled rotation (`ocpp.password_max_age_days`) until `shutdown`; nothing when it
/// is off.
pub fn spawn_rotation(state: AppState, shutdown: CancellationToken) {
    if state.config.ocpp.password_max_age_days.is_none() {
        return;
    }
    tokio::spawn(async move {
        let mut every = tokio::time::interval(ROTATE_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = every.tick() => { rotate_due(&state).await; }
            }
        }
    });
}

/// Rotates the passwords older than `ocpp.password_max_age_days` of chargers connected to
/// this node, as the platform (audited with no user); returns how many the chargers took.
pub async fn rotate_due(state: &AppState) -> usize {
    let Some(days) = state.config.ocpp.password_max_age_days else {
        return 0;
    };
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(days));
    let due = match state
        .store
        .chargers_with_passwords_older_than(cutoff, ROTATE_BATCH)
        .await
    {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "chargers due for a new password not read");
            return 0;
        }
    };
    let cmd = || super::Command::Password(PasswordBody::default());
    super::as_platform_here(state, due, "scheduled password change", cmd).await
}
