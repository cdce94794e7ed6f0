//! What every command file implements: its request in each OCPP version, built from
//! rust-ocpp's typed structs, and how each version's typed answer reads as a [`CommandReply`].
//!
//! The JSON exists only at the edge: a typed request is serialised once for the wire, and the
//! charger's payload is deserialised once into the typed response (a mismatch is a bad answer).

use serde::Serialize;
use serde::de::{DeserializeOwned, IntoDeserializer};
use serde_json::Value;

use rust_ocpp::v2_0_1::datatypes::{component_type::ComponentType, variable_type::VariableType};

use super::{CommandReply, Error};
use crate::ocpp::OcppVersion;

/// One remote command in both versions.
pub trait Message {
    /// The 1.6 action name.
    const V16: &'static str;
    /// The 2.0.1 action name.
    const V201: &'static str;
    type Request16: Serialize;
    type Response16: DeserializeOwned;
    type Request201: Serialize;
    type Response201: DeserializeOwned;

    /// The 1.6 request, or why this body cannot be sent to a 1.6 charger.
    fn v16(&self) -> Result<Self::Request16, Error>;
    /// The 2.0.1 request; `request_id` ties the charger's later notifications to the audit row.
    fn v201(&self, request_id: i32) -> Result<Self::Request201, Error>;
    /// A 1.6 answer as the API shows it.
    fn reply16(answer: Self::Response16) -> CommandReply;
    /// A 2.0.1 answer as the API shows it.
    fn reply201(answer: Self::Response201) -> CommandReply;
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
        OcppVersion::V16 => (M::V16, serde_json::to_value(msg.v16()?)),
        OcppVersion::V201 => (M::V201, serde_json::to_value(msg.v201(request_id)?)),
    };
    let payload = payload.map_err(|e| Error::Internal(format!("{action}: {e}")))?;
    Ok(Prepared { action, payload })
}

/// The charger's answer to a `M` in `version`.
pub fn answer<M: Message>(version: OcppVersion, payload: Value) -> Result<CommandReply, Error> {
    let bad = |e: serde_json::Error| Error::BadAnswer(e.to_string());
    Ok(match version {
        OcppVersion::V16 => M::reply16(serde_json::from_value(payload).map_err(bad)?),
        OcppVersion::V201 => M::reply201(serde_json::from_value(payload).map_err(bad)?),
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

/// 2.0.1 names variables `Component.Variable` here (e.g. `OCPPCommCtrlr.HeartbeatInterval`).
pub fn component_variable(key: &str) -> Result<(ComponentType, VariableType), Error> {
    match key.split_once('.') {
        Some((c, v)) if !c.is_empty() && !v.is_empty() => Ok((
            ComponentType {
                name: c.to_owned(),
                instance: None,
                evse: None,
            },
            VariableType {
                name: v.to_owned(),
                instance: None,
            },
        )),
        _ => Err(invalid(
            "key",
            format!("{key:?}: OCPP 2.0.1 keys are Component.Variable"),
        )),
    }
}

/// 1.6 times go out in milliseconds: much charger firmware cannot parse nanoseconds.
pub fn millis(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    t.trunc_subsecs(3)
}

#[cfg(test)]
pub mod tests {
    use serde_json::Value;

    use super::*;

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
    fn times_lose_their_nanoseconds() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-01T21:35:20.348651798Z").unwrap();
        let s = serde_json::to_value(millis(t.into())).unwrap();
        assert_eq!(s, "2026-12-01T21:35:20.348Z");
    }
}
