//! What every command file implements: its request in each OCPP version, built from
//! rust-ocpp's typed structs, and how each version's typed answer reads as a [`CommandReply`].
//!
//! The JSON exists only at the edge: a typed request is serialised once for the wire, and the
//! charger's payload is deserialised once into the typed response (a mismatch is a bad answer).

use serde::Serialize;
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde_json::Value;

use rust_ocpp::v2_0_1::datatypes::{component_type::ComponentType, variable_type::VariableType};
use rust_ocpp::{v1_6::messages as m16, v2_0_1::messages as m201};

use super::{CommandReply, Error};
use crate::ocpp::OcppVersion;
use crate::ocpp::v16::{
    certificate_signed as cs16, delete_certificate as d16, extended_trigger_message as et16,
    get_installed_certificate_ids as g16, get_log as l16, install_certificate as i16, signed_update_firmware as s16,
};

/// One remote command in both versions: the typed request it becomes in each.
pub trait Message {
    type V16: Call;
    type V201: Call;

    /// The 1.6 request, or why this body cannot be sent to a 1.6 charger; `request_id` is for
    /// the security extension's messages that carry one (SignedUpdateFirmware, GetLog).
    fn v16(&self, request_id: i32) -> Result<Self::V16, Error>;
    /// The 2.0.1 request; `request_id` ties the charger's later notifications to the audit row.
    fn v201(&self, request_id: i32) -> Result<Self::V201, Error>;
}

/// A rust-ocpp request the CSMS sends: its action name and the answer it expects.
pub trait Call: Serialize {
    const ACTION: &'static str;
    type Answer: DeserializeOwned + Into<CommandReply>;
}

/// The request types, their action names and their answers, in one table.
macro_rules! calls {
    ($($req:ty => $action:literal, $res:ty;)*) => {
        $(impl Call for $req {
            const ACTION: &'static str = $action;
            type Answer = $res;
        })*
    };
}

/// Answers that are a status (and, in 2.0.1, the reason for it) and nothing else.
macro_rules! status_answers {
    (v16: $($a:ty),*; v201: $($b:ty),* $(,)?) => {
        $(impl From<$a> for CommandReply {
            fn from(a: $a) -> Self {
                CommandReply::status(a.status, None)
            }
        })*
        $(impl From<$b> for CommandReply {
            fn from(a: $b) -> Self {
                CommandReply::status(a.status, a.status_info)
            }
        })*
    };
}

calls! {
    m16::reset::ResetRequest => "Reset", m16::reset::ResetResponse;
    m201::reset::ResetRequest => "Reset", m201::reset::ResetResponse;
    m16::unlock_connector::UnlockConnectorRequest => "UnlockConnector", m16::unlock_connector::UnlockConnectorResponse;
    m201::unlock_connector::UnlockConnectorRequest => "UnlockConnector", m201::unlock_connector::UnlockConnectorResponse;
    m16::update_firmware::UpdateFirmwareRequest => "UpdateFirmware", m16::update_firmware::UpdateFirmwareResponse;
    m201::update_firmware::UpdateFirmwareRequest => "UpdateFirmware", m201::update_firmware::UpdateFirmwareResponse;
    m16::change_availability::ChangeAvailabilityRequest => "ChangeAvailability",
        m16::change_availability::ChangeAvailabilityResponse;
    m201::change_availability::ChangeAvailabilityRequest => "ChangeAvailability",
        m201::change_availability::ChangeAvailabilityResponse;
    m16::trigger_message::TriggerMessageRequest => "TriggerMessage", m16::trigger_message::TriggerMessageResponse;
    m201::trigger_message::TriggerMessageRequest => "TriggerMessage", m201::trigger_message::TriggerMessageResponse;
    m16::get_diagnostics::GetDiagnosticsRequest => "GetDiagnostics", m16::get_diagnostics::GetDiagnosticsResponse;
    m201::get_log::GetLogRequest => "GetLog", m201::get_log::GetLogResponse;
    m16::get_configuration::GetConfigurationRequest => "GetConfiguration",
        m16::get_configuration::GetConfigurationResponse;
    m201::get_variables::GetVariablesRequest => "GetVariables", m201::get_variables::GetVariablesResponse;
    m16::change_configuration::ChangeConfigurationRequest => "ChangeConfiguration",
        m16::change_configuration::ChangeConfigurationResponse;
    m201::set_variables::SetVariablesRequest => "SetVariables", m201::set_variables::SetVariablesResponse;
    m16::remote_start_transaction::RemoteStartTransactionRequest => "RemoteStartTransaction",
        m16::remote_start_transaction::RemoteStartTransactionResponse;
    m201::request_start_transaction::RequestStartTransactionRequest => "RequestStartTransaction",
        m201::request_start_transaction::RequestStartTransactionResponse;
    m16::remote_stop_transaction::RemoteStopTransactionRequest => "RemoteStopTransaction",
        m16::remote_stop_transaction::RemoteStopTransactionResponse;
    m201::request_stop_transaction::RequestStopTransactionRequest => "RequestStopTransaction",
        m201::request_stop_transaction::RequestStopTransactionResponse;
    m16::clear_cache::ClearCacheRequest => "ClearCache", m16::clear_cache::ClearCacheResponse;
    m201::clear_cache::ClearCacheRequest => "ClearCache", m201::clear_cache::ClearCacheResponse;
    m201::get_base_report::GetBaseReportRequest => "GetBaseReport", m201::get_base_report::GetBaseReportResponse;
    m201::get_report::GetReportRequest => "GetReport", m201::get_report::GetReportResponse;
    et16::ExtendedTriggerMessageRequest => "ExtendedTriggerMessage", et16::ExtendedTriggerMessageResponse;
    cs16::CertificateSignedRequest => "CertificateSigned", cs16::CertificateSignedResponse;
    m201::certificate_signed::CertificateSignedRequest => "CertificateSigned",
        m201::certificate_signed::CertificateSignedResponse;
    g16::GetInstalledCertificateIdsRequest => "GetInstalledCertificateIds", g16::GetInstalledCertificateIdsResponse;
    m201::get_installed_certificate_ids::GetInstalledCertificateIdsRequest => "GetInstalledCertificateIds",
        m201::get_installed_certificate_ids::GetInstalledCertificateIdsResponse;
    i16::InstallCertificateRequest => "InstallCertificate", i16::InstallCertificateResponse;
    m201::install_certificate::InstallCertificateRequest => "InstallCertificate",
        m201::install_certificate::InstallCertificateResponse;
    d16::DeleteCertificateRequest => "DeleteCertificate", d16::DeleteCertificateResponse;
    s16::SignedUpdateFirmwareRequest => "SignedUpdateFirmware", s16::SignedUpdateFirmwareResponse;
    l16::GetLogRequest => "GetLog", l16::GetLogResponse;
    m201::delete_certificate::DeleteCertificateRequest => "DeleteCertificate",
        m201::delete_certificate::DeleteCertificateResponse;
}

status_answers! {
    v16: m16::reset::ResetResponse, m16::unlock_connector::UnlockConnectorResponse,
        m16::change_availability::ChangeAvailabilityResponse, m16::trigger_message::TriggerMessageResponse,
        m16::change_configuration::ChangeConfigurationResponse,
        m16::remote_start_transaction::RemoteStartTransactionResponse,
        m16::remote_stop_transaction::RemoteStopTransactionResponse, m16::clear_cache::ClearCacheResponse,
        et16::ExtendedTriggerMessageResponse, cs16::CertificateSignedResponse, i16::InstallCertificateResponse,
        d16::DeleteCertificateResponse, s16::SignedUpdateFirmwareResponse;
    v201: m201::reset::ResetResponse, m201::unlock_connector::UnlockConnectorResponse,
        m201::update_firmware::UpdateFirmwareResponse, m201::change_availability::ChangeAvailabilityResponse,
        m201::trigger_message::TriggerMessageResponse,
        m201::request_stop_transaction::RequestStopTransactionResponse, m201::clear_cache::ClearCacheResponse,
        m201::get_base_report::GetBaseReportResponse, m201::get_report::GetReportResponse,
        m201::certificate_signed::CertificateSignedResponse, m201::install_certificate::InstallCertificateResponse,
        m201::delete_certificate::DeleteCertificateResponse,
}

/// A CALL ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub action: &'static str,
    pub payload: Value,
}

/// The CALL for `msg` in `version`.
pub fn prepare<M: Message>(msg: &M, version: OcppVersion, request_id: i32) -> Result<Prepared, Error> {
    let (action, payload) = match version {
        OcppVersion::V16 => (M::V16::ACTION, serde_json::to_value(msg.v16(request_id)?)),
        OcppVersion::V201 => (M::V201::ACTION, serde_json::to_value(msg.v201(request_id)?)),
    };
    let payload = payload.map_err(|e| Error::Internal(format!("{action}: {e}")))?;
    Ok(Prepared { action, payload })
}

/// The charger's answer to a `M` in `version`.
pub fn answer<M: Message>(version: OcppVersion, payload: Value) -> Result<CommandReply, Error> {
    let bad = Error::BadAnswer;
    Ok(match version {
        OcppVersion::V16 => serde_json::from_value::<<M::V16 as Call>::Answer>(payload)
            .map_err(bad)?
            .into(),
        OcppVersion::V201 => serde_json::from_value::<<M::V201 as Call>::Answer>(payload)
            .map_err(bad)?
            .into(),
    })
}

/// A field of the API body that this version cannot carry.
pub fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// A user-given name read as the version's enum `T` (`"StatusNotification"`, ...).
pub fn named<T: DeserializeOwned>(field: &str, value: &str, what: &str) -> Result<T, Error> {
    let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = value.into_deserializer();
    T::deserialize(de).map_err(|_| {
        invalid(
            field,
            format!("{value:?} is not a {what} this charger's OCPP version knows"),
        )
    })
}

/// A 1.6 connector number: 0 is the whole charger, negatives do not exist.
pub fn connector16(field: &str, id: i32) -> Result<u32, Error> {
    u32::try_from(id).map_err(|_| invalid(field, "must be 0 or more"))
}

/// 2.0.1 addresses an EVSE, optionally one of its connectors.
pub fn evse(
    evse_id: Option<i32>,
    connector_id: Option<i32>,
) -> Option<rust_ocpp::v2_0_1::datatypes::evse_type::EVSEType> {
    evse_id.map(|id| rust_ocpp::v2_0_1::datatypes::evse_type::EVSEType { id, connector_id })
}

/// 2.0.1 configuration keys here: `Component.Variable`, with an optional component instance
/// and EVSE (`Component[instance]@evse/connector`) and variable instance
/// (`Variable[instance]`, or `Variable.instance` as a third dotted part), e.g.
/// `OCPPCommCtrlr.MessageAttempts.TransactionEvent` or `EVSE@1.AvailabilityState`.
pub fn component_variable(key: &str) -> Result<(ComponentType, VariableType), Error> {
    let bad = || {
        invalid(
            "key",
            format!("{key:?}: OCPP 2.0.1 keys are Component[instance]@evse/connector.Variable[instance]"),
        )
    };
    // Dots inside brackets belong to an instance name.
    let split = key
        .char_indices()
        .scan(0i32, |depth, (i, c)| {
            *depth += match c {
                '[' => 1,
                ']' => -1,
                _ => 0,
            };
            Some((i, c, *depth))
        })
        .find(|&(_, c, depth)| c == '.' && depth == 0)
        .map(|(i, _, _)| i)
        .ok_or_else(bad)?;
    let component = component_part(&key[..split]).ok_or_else(bad)?;
    let variable = variable_part(&key[split + 1..]).ok_or_else(bad)?;
    Ok((component, variable))
}

/// `Component[instance]@evse/connector`, the component half of a key.
pub fn component_part(text: &str) -> Option<ComponentType> {
    let (text, evse) = match text.split_once('@') {
        Some((c, place)) => {
            let (evse, connector) = match place.split_once('/') {
                Some((e, k)) => (e, Some(k.parse().ok()?)),
                None => (place, None),
            };
            (c, Some((evse.parse().ok()?, connector)))
        }
        None => (text, None),
    };
    let (name, instance) = bracketed(text)?;
    named_ok(name)?;
    Some(ComponentType {
        name: name.to_owned(),
        instance: instance.map(str::to_owned),
        evse: evse.map(|(id, connector_id)| rust_ocpp::v2_0_1::datatypes::evse_type::EVSEType { id, connector_id }),
    })
}

/// `Variable[instance]` or `Variable.instance`, the variable half of a key.
pub fn variable_part(text: &str) -> Option<VariableType> {
    let (name, instance) = match bracketed(text)? {
        (v, None) => match v.split_once('.') {
            Some((v, instance)) => (v, Some(instance)),
            None => (v, None),
        },
        named => named,
    };
    named_ok(name)?;
    Some(VariableType {
        name: name.to_owned(),
        instance: instance.map(str::to_owned),
    })
}

/// The key [`component_variable`] reads back as `component` and `variable`.
pub fn key_of(component: &ComponentType, variable: &VariableType) -> String {
    let mut key = component.name.clone();
    if let Some(instance) = &component.instance {
        key += &format!("[{instance}]");
    }
    if let Some(evse) = &component.evse {
        key += &format!("@{}", evse.id);
        if let Some(connector) = evse.connector_id {
            key += &format!("/{connector}");
        }
    }
    key += &format!(".{}", variable.name);
    if let Some(instance) = &variable.instance {
        key += &format!("[{instance}]");
    }
    key
}

/// A component or variable name: 1 to 50 characters.
fn named_ok(name: &str) -> Option<()> {
    (!name.is_empty() && name.chars().count() <= 50).then_some(())
}

/// `name` or `name[instance]`; `None` for unbalanced brackets or an empty instance.
fn bracketed(text: &str) -> Option<(&str, Option<&str>)> {
    match text.split_once('[') {
        None if !text.contains(']') => Some((text, None)),
        Some((name, rest)) => match rest.strip_suffix(']') {
            Some(instance) if !instance.is_empty() && !instance.contains(['[', ']']) => Some((name, Some(instance))),
            _ => None,
        },
        None => None,
    }
}

#[cfg(test)]
pub mod tests {
    pub use serde_json::{Value, json};

    pub use super::prepare;
    use super::*;
    pub use crate::ocpp::OcppVersion::{V16, V201};

    /// The payload `msg` sends to a charger of `version`.
    pub fn sent<M: Message>(msg: &M, version: OcppVersion) -> Value {
        prepare(msg, version, 7).expect("prepares").payload
    }

    /// The reply the API shows for `payload`, as JSON.
    pub fn shown<M: Message>(version: OcppVersion, payload: Value) -> Value {
        serde_json::to_value(answer::<M>(version, payload).expect("answer parses")).unwrap()
    }

    #[test]
    fn names_read_as_the_versions_enums() {
        use rust_ocpp::v1_6::types::MessageTrigger;
        let t: MessageTrigger = named("message", "Heartbeat", "TriggerMessage").unwrap();
        assert_eq!(t, MessageTrigger::Heartbeat);
        assert!(named::<MessageTrigger>("message", "TransactionEvent", "TriggerMessage").is_err());
    }

    #[test]
    fn configuration_keys_address_instances_and_evses() {
        let (c, v) = component_variable("OCPPCommCtrlr.MessageAttempts.TransactionEvent").unwrap();
        assert_eq!((c.name.as_str(), c.instance, c.evse), ("OCPPCommCtrlr", None, None));
        assert_eq!(
            (v.name.as_str(), v.instance.as_deref()),
            ("MessageAttempts", Some("TransactionEvent"))
        );
        let (c, v) = component_variable("EVSE@1.AvailabilityState").unwrap();
        assert_eq!(
            (c.name.as_str(), c.evse.map(|e| (e.id, e.connector_id))),
            ("EVSE", Some((1, None)))
        );
        assert_eq!(v.name, "AvailabilityState");
        let (c, v) = component_variable("Connector[Left]@1/2.Type[a.b]").unwrap();
        assert_eq!(c.instance.as_deref(), Some("Left"));
        assert_eq!(c.evse.map(|e| (e.id, e.connector_id)), Some((1, Some(2))));
        assert_eq!((v.name.as_str(), v.instance.as_deref()), ("Type", Some("a.b")));
        for bad in ["NoDot", ".Variable", "Component.", "C[.V", "C@x.V", "C[].V", "C.V[i"] {
            assert!(component_variable(bad).is_err(), "{bad}");
        }
        for key in [
            "Connector[Left]@1/2.Type[a.b]",
            "EVSE@1.AvailabilityState",
            "OCPPCommCtrlr.HeartbeatInterval",
        ] {
            let (c, v) = component_variable(key).unwrap();
            assert_eq!(key_of(&c, &v), key);
        }
    }
}
