//! Raising a connected charger's security profile without a site visit and without a moment
//! it cannot connect (2.0.1 A05 `SecurityCtrlr.SecurityProfile`, 1.6 white paper
//! `SecurityProfile`): what the new profile needs is checked first, the new profile is staged
//! before it is sent, and the charger is admitted on its old profile until its first
//! connection that meets the new one (`station::admission`); from then on the old way in is
//! refused. A profile lowered, or set on an offline charger, is the operator's word and applies
//! at once (`services::chargers::update`).

use chrono::Utc;
use rust_ocpp::v1_6::messages::change_configuration as c16;
use rust_ocpp::v2_0_1::datatypes::{
    component_type::ComponentType, set_variable_data_type::SetVariableDataType, variable_type::VariableType,
};
use rust_ocpp::v2_0_1::messages::set_variables as s201;
use serde::Serialize;

use super::message::Message;
use super::{Command, CommandReply, Error};
use crate::access::{Authorized, Principal, cap};
use crate::cluster::Location;
use crate::services::Error as ServiceError;
use crate::services::chargers::{self as svc, ChargerOut, ChargerPatch};
use crate::state::AppState;
use entity::charger;

/// The profile to move to (never an API body: `PATCH /chargers/{id}` carries it).
#[derive(Debug, Clone, Serialize)]
pub struct SecurityProfileBody {
    pub profile: u8,
}

impl Message for SecurityProfileBody {
    type V16 = c16::ChangeConfigurationRequest;
    type V201 = s201::SetVariablesRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(c16::ChangeConfigurationRequest {
            key: "SecurityProfile".into(),
            value: self.profile.to_string(),
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        Ok(s201::SetVariablesRequest {
            set_variable_data: vec![SetVariableDataType {
                attribute_type: None,
                attribute_value: self.profile.to_string(),
                component: ComponentType {
                    name: "SecurityCtrlr".into(),
                    instance: None,
                    evse: None,
                },
                variable: VariableType {
                    name: "SecurityProfile".into(),
                    instance: None,
                },
            }],
        })
    }
}

fn conflict(message: String) -> Error {
    Error::Service(ServiceError::Conflict(message))
}

/// What the new profile needs, before anything is sent: the `wss://` listener, and for 3 a
/// valid certificate issued to this charger (or a CA of the operator's in `tls.client_ca_file`).
pub(super) fn check(state: &AppState, c: &charger::Model, profile: u8) -> Result<(), Error> {
    if profile >= 2 && state.config.ocpp.tls_listen.is_none() {
        return Err(conflict(format!(
            "security profile {profile} needs the wss:// listener (ocpp.tls_listen and [tls])"
        )));
    }
    let external_ca = state.config.tls.as_ref().is_some_and(|t| t.client_ca_file.is_some());
    let own_certificate = c.certificate_expires_at.is_some_and(|until| until > Utc::now());
    if profile == 3 && !own_certificate && !external_ca {
        return Err(conflict(
            "security profile 3 needs a valid certificate issued to this charger (POST /chargers/{id}/certificate)"
                .into(),
        ));
    }
    Ok(())
}

/// Stages the new profile before it is sent: a charger that takes it may reconnect at once.
pub(super) async fn stage(
    state: &AppState,
    may: &Authorized<cap::ChargerSecurity>,
    c: &charger::Model,
    body: &SecurityProfileBody,
) -> Result<(), Error> {
    Ok(state
        .store
        .stage_security_profile(may, c, Some(body.profile))
        .await
        .map_err(ServiceError::from)?)
}

/// A refusal ends the upgrade; no answer keeps it staged (the charger may have applied it).
pub(super) async fn settle(
    state: &AppState,
    may: &Authorized<cap::ChargerSecurity>,
    c: &charger::Model,
    result: &Result<CommandReply, Error>,
) {
    let refused = match result {
        Ok(reply) => !reply.status.took(),
        Err(e) => e.surely_not_taken(),
    };
    if refused && let Err(e) = state.store.stage_security_profile(may, c, None).await {
        tracing::error!(error = %e, charger = %c.id, "could not end a refused security profile upgrade");
    }
}

/// `PATCH /chargers/{id}`: a higher profile for a connected charger goes through the charger
/// (the answer shows `security_profile_pending` until it reconnects on it); everything else,
/// and any profile for an offline charger, is changed at once.
pub async fn update_charger(
    state: &AppState,
    p: &Principal,
    id: &str,
    mut patch: ChargerPatch,
) -> Result<ChargerOut, Error> {
    let raise = match patch.security_profile {
        Some(Some(to)) if !matches!(state.fleet.locate(id), Location::Nowhere) => {
            let (c, _) = svc::visible_charger(state, p, id, "charger.update").await?;
            let current = c
                .security_profile
                .and_then(|v| u8::try_from(v).ok())
                .unwrap_or(state.config.ocpp.security_profile);
            (to > current).then_some((to, current))
        }
        _ => None,
    };
    let Some((to, current)) = raise else {
        return Ok(svc::update(state, p, id, patch).await?);
    };
    patch.security_profile = None;
    if !patch.is_empty() {
        svc::update(state, p, id, patch).await?;
    }
    let reply = super::execute(
        state,
        p,
        id,
        Command::SecurityProfile(SecurityProfileBody { profile: to }),
    )
    .await?;
    if !reply.status.took() {
        return Err(conflict(format!(
            "the charger answered {} to security profile {to}; it stays on {current}",
            reply.status
        )));
    }
    Ok(svc::get(state, p, id).await?)
}
