//! Version-neutral commands to each version's own CALL, and each version's answer back to a
//! [`CommandReply`]. Payloads are checked against rust-ocpp's typed request before they are
//! sent, and answers against the typed response, so a field voltgate gets wrong or a charger
//! answers wrongly is caught here, not on the wire.

use chrono::Utc;
use rust_ocpp::{v1_6::messages as m16, v2_0_1::messages as m201};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::{Command, CommandReply, Error};
use crate::ocpp::OcppVersion::{self, V16, V201};

/// A CALL ready to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub action: &'static str,
    pub payload: Value,
    /// The payload field that carries a request id (2.0.1), filled in once the audit row
    /// exists so the charger's later notifications point back at it.
    request_id_field: Option<&'static str>,
}

impl Prepared {
    /// Sets the request id, where the message has one.
    pub fn with_request_id(mut self, id: i32) -> Self {
        if let (Some(field), Some(obj)) = (self.request_id_field, self.payload.as_object_mut()) {
            obj.insert(field.into(), json!(id));
        }
        self
    }
}

fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Round-trips `payload` through the typed request `T`: proof that it is what the spec wants.
fn typed<T: Serialize + DeserializeOwned>(action: &'static str, payload: Value) -> Result<Prepared, Error> {
    let request: T = serde_json::from_value(payload).map_err(|e| invalid("", format!("{action}: {e}")))?;
    let payload = serde_json::to_value(request).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Prepared {
        action,
        payload,
        request_id_field: None,
    })
}

fn with_request_id(mut p: Prepared, field: &'static str) -> Prepared {
    p.request_id_field = Some(field);
    p
}

/// Checks that a user-given name is a value of the version's enum `T`.
fn enum_value<T: DeserializeOwned>(field: &str, value: &str, what: &str) -> Result<(), Error> {
    serde_json::from_value::<T>(json!(value)).map(|_| ()).map_err(|_| {
        invalid(
            field,
            format!("{value:?} is not a {what} this charger's OCPP version knows"),
        )
    })
}

fn evse(evse_id: Option<i32>, connector_id: Option<i32>) -> Option<Value> {
    evse_id.map(|id| {
        let mut e = json!({"id": id});
        if let Some(c) = connector_id {
            e["connectorId"] = json!(c);
        }
        e
    })
}

/// 2.0.1 names variables `Component.Variable` here (e.g. `OCPPCommCtrlr.HeartbeatInterval`).
fn component_variable(key: &str) -> Result<Value, Error> {
    match key.split_once('.') {
        Some((c, v)) if !c.is_empty() && !v.is_empty() => {
            Ok(json!({"component": {"name": c}, "variable": {"name": v}}))
        }
        _ => Err(invalid(
            "key",
            format!("{key:?}: OCPP 2.0.1 keys are Component.Variable"),
        )),
    }
}

fn drop_nulls(mut v: Value) -> Value {
    if let Some(obj) = v.as_object_mut() {
        obj.retain(|_, x| !x.is_null());
    }
    v
}

/// The CALL for `cmd` in the charger's `version`.
pub fn request(cmd: &Command, version: OcppVersion) -> Result<Prepared, Error> {
    use Command::*;
    Ok(match (cmd, version) {
        (Reset(b), V16) => {
            typed::<m16::reset::ResetRequest>("Reset", json!({"type": if b.hard() { "Hard" } else { "Soft" }}))?
        }
        (Reset(b), V201) => {
            typed::<m201::reset::ResetRequest>("Reset", json!({"type": if b.hard() { "Immediate" } else { "OnIdle" }}))?
        }
        (Unlock(b), V16) => {
            let connector = u32::try_from(b.connector_id).ok().filter(|c| *c > 0);
            let connector = connector.ok_or_else(|| invalid("connector_id", "must be 1 or more"))?;
            typed::<m16::unlock_connector::UnlockConnectorRequest>(
                "UnlockConnector",
                json!({"connectorId": connector}),
            )?
        }
        (Unlock(b), V201) => {
            let evse_id = b
                .evse_id
                .ok_or_else(|| invalid("evse_id", "required for OCPP 2.0.1 chargers"))?;
            typed::<m201::unlock_connector::UnlockConnectorRequest>(
                "UnlockConnector",
                json!({"evseId": evse_id, "connectorId": b.connector_id}),
            )?
        }
        (UpdateFirmware(b), V16) => typed::<m16::update_firmware::UpdateFirmwareRequest>(
            "UpdateFirmware",
            drop_nulls(json!({
                "location": b.location,
                "retrieveDate": b.retrieve_at.unwrap_or_else(Utc::now),
                "retries": b.retries,
                "retryInterval": b.retry_interval_s,
            })),
        )?,
        (UpdateFirmware(b), V201) => with_request_id(
            typed::<m201::update_firmware::UpdateFirmwareRequest>(
                "UpdateFirmware",
                drop_nulls(json!({
                    "requestId": 0,
                    "retries": b.retries,
                    "retryInterval": b.retry_interval_s,
                    "firmware": {"location": b.location, "retrieveDateTime": b.retrieve_at.unwrap_or_else(Utc::now)},
                })),
            )?,
            "requestId",
        ),
        (Availability(b), V16) => typed::<m16::change_availability::ChangeAvailabilityRequest>(
            "ChangeAvailability",
            json!({"connectorId": b.connector_id.or(b.evse_id).unwrap_or(0).max(0), "type": b.ocpp_name()}),
        )?,
        (Availability(b), V201) => {
            let mut p = json!({"operationalStatus": b.ocpp_name()});
            if let Some(e) = evse(b.evse_id, b.connector_id) {
                p["evse"] = e;
            }
            typed::<m201::change_availability::ChangeAvailabilityRequest>("ChangeAvailability", p)?
        }
        (Trigger(b), V16) => {
            enum_value::<rust_ocpp::v1_6::types::MessageTrigger>("message", &b.message, "TriggerMessage")?;
            let mut p = json!({"requestedMessage": b.message});
            if let Some(c) = b.connector_id.or(b.evse_id) {
                p["connectorId"] = json!(c);
            }
            typed::<m16::trigger_message::TriggerMessageRequest>("TriggerMessage", p)?
        }
        (Trigger(b), V201) => {
            enum_value::<rust_ocpp::v2_0_1::enumerations::message_trigger_enum_type::MessageTriggerEnumType>(
                "message",
                &b.message,
                "TriggerMessage",
            )?;
            let mut p = json!({"requestedMessage": b.message});
            if let Some(e) = evse(b.evse_id, b.connector_id) {
                p["evse"] = e;
            }
            typed::<m201::trigger_message::TriggerMessageRequest>("TriggerMessage", p)?
        }
        (Diagnostics(b), V16) => typed::<m16::get_diagnostics::GetDiagnosticsRequest>(
            "GetDiagnostics",
            drop_nulls(json!({"location": b.location, "startTime": b.start, "stopTime": b.stop})),
        )?,
        (Diagnostics(b), V201) => with_request_id(
            typed::<m201::get_log::GetLogRequest>(
                "GetLog",
                json!({
                    "logType": "DiagnosticsLog",
                    "requestId": 0,
                    "log": drop_nulls(json!({"remoteLocation": b.location, "oldestTimestamp": b.start, "latestTimestamp": b.stop})),
                }),
            )?,
            "requestId",
        ),
        (GetConfiguration(keys), V16) => {
            let p = if keys.is_empty() {
                json!({})
            } else {
                json!({"key": keys})
            };
            typed::<m16::get_configuration::GetConfigurationRequest>("GetConfiguration", p)?
        }
        (GetConfiguration(keys), V201) => {
            if keys.is_empty() {
                return Err(invalid(
                    "key",
                    "OCPP 2.0.1 chargers need at least one Component.Variable key",
                ));
            }
            let data = keys
                .iter()
                .map(|k| component_variable(k))
                .collect::<Result<Vec<_>, _>>()?;
            typed::<m201::get_variables::GetVariablesRequest>("GetVariables", json!({"getVariableData": data}))?
        }
        (SetConfiguration(b), V16) => typed::<m16::change_configuration::ChangeConfigurationRequest>(
            "ChangeConfiguration",
            json!({"key": b.key, "value": b.value}),
        )?,
        (SetConfiguration(b), V201) => {
            let mut data = component_variable(&b.key)?;
            data["attributeValue"] = json!(b.value);
            typed::<m201::set_variables::SetVariablesRequest>("SetVariables", json!({"setVariableData": [data]}))?
        }
        (RemoteStart(b), V16) => {
            let mut p = json!({"idTag": b.id_token});
            if let Some(c) = b.evse_id {
                p["connectorId"] = json!(c);
            }
            typed::<m16::remote_start_transaction::RemoteStartTransactionRequest>("RemoteStartTransaction", p)?
        }
        (RemoteStart(b), V201) => {
            let mut p = json!({"idToken": {"idToken": b.id_token, "type": "Central"}, "remoteStartId": 0});
            if let Some(e) = b.evse_id {
                p["evseId"] = json!(e);
            }
            with_request_id(
                typed::<m201::request_start_transaction::RequestStartTransactionRequest>("RequestStartTransaction", p)?,
                "remoteStartId",
            )
        }
        (RemoteStop(b), V16) => {
            let id: i32 = b
                .transaction_id
                .parse()
                .map_err(|_| invalid("transaction_id", "OCPP 1.6 transaction ids are integers"))?;
            typed::<m16::remote_stop_transaction::RemoteStopTransactionRequest>(
                "RemoteStopTransaction",
                json!({"transactionId": id}),
            )?
        }
        (RemoteStop(b), V201) => typed::<m201::request_stop_transaction::RequestStopTransactionRequest>(
            "RequestStopTransaction",
            json!({"transactionId": b.transaction_id}),
        )?,
        (ClearCache, V16) => typed::<m16::clear_cache::ClearCacheRequest>("ClearCache", json!({}))?,
        (ClearCache, V201) => typed::<m201::clear_cache::ClearCacheRequest>("ClearCache", json!({}))?,
    })
}

/// Checks an answer against the typed response `T`.
fn check<T: DeserializeOwned>(payload: &Value) -> Result<(), Error> {
    serde_json::from_value::<T>(payload.clone())
        .map(|_| ())
        .map_err(|e| Error::BadAnswer(e.to_string()))
}

fn status_of(payload: &Value) -> String {
    payload["status"].as_str().unwrap_or("Accepted").to_owned()
}

/// The charger's answer to `cmd`, as the API shows it.
pub fn reply(cmd: &Command, version: OcppVersion, payload: Value) -> Result<CommandReply, Error> {
    use Command::*;
    let mut extra = Map::new();
    match (cmd, version) {
        (Reset(_), V16) => check::<m16::reset::ResetResponse>(&payload)?,
        (Reset(_), V201) => check::<m201::reset::ResetResponse>(&payload)?,
        (Unlock(_), V16) => check::<m16::unlock_connector::UnlockConnectorResponse>(&payload)?,
        (Unlock(_), V201) => check::<m201::unlock_connector::UnlockConnectorResponse>(&payload)?,
        // 1.6 UpdateFirmware.conf has no fields: answering at all is acceptance.
        (UpdateFirmware(_), V16) => check::<m16::update_firmware::UpdateFirmwareResponse>(&payload)?,
        (UpdateFirmware(_), V201) => check::<m201::update_firmware::UpdateFirmwareResponse>(&payload)?,
        (Availability(_), V16) => check::<m16::change_availability::ChangeAvailabilityResponse>(&payload)?,
        (Availability(_), V201) => check::<m201::change_availability::ChangeAvailabilityResponse>(&payload)?,
        (Trigger(_), V16) => check::<m16::trigger_message::TriggerMessageResponse>(&payload)?,
        (Trigger(_), V201) => check::<m201::trigger_message::TriggerMessageResponse>(&payload)?,
        (Diagnostics(_), V16) => {
            check::<m16::get_diagnostics::GetDiagnosticsResponse>(&payload)?;
            extra.insert("file_name".into(), payload["fileName"].clone());
        }
        (Diagnostics(_), V201) => {
            check::<m201::get_log::GetLogResponse>(&payload)?;
            extra.insert("file_name".into(), payload["filename"].clone());
        }
        (GetConfiguration(_), V16) => {
            check::<m16::get_configuration::GetConfigurationResponse>(&payload)?;
            let entries: Vec<Value> = payload["configurationKey"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|kv| json!({"key": kv["key"], "value": kv["value"], "readonly": kv["readonly"]}))
                .collect();
            extra.insert("configuration".into(), Value::Array(entries));
            extra.insert(
                "unknown_keys".into(),
                payload.get("unknownKey").cloned().unwrap_or(json!([])),
            );
        }
        (GetConfiguration(_), V201) => {
            check::<m201::get_variables::GetVariablesResponse>(&payload)?;
            let entries: Vec<Value> = payload["getVariableResult"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| {
                    let key = format!(
                        "{}.{}",
                        r["component"]["name"].as_str().unwrap_or(""),
                        r["variable"]["name"].as_str().unwrap_or("")
                    );
                    json!({"key": key, "value": r["attributeValue"], "status": r["attributeStatus"]})
                })
                .collect();
            extra.insert("configuration".into(), Value::Array(entries));
        }
        (SetConfiguration(_), V16) => check::<m16::change_configuration::ChangeConfigurationResponse>(&payload)?,
        (SetConfiguration(_), V201) => {
            check::<m201::set_variables::SetVariablesResponse>(&payload)?;
            let status = payload["setVariableResult"][0]["attributeStatus"]
                .as_str()
                .unwrap_or("Rejected");
            return Ok(CommandReply {
                status: status.to_owned(),
                extra,
            });
        }
        (RemoteStart(_), V16) => check::<m16::remote_start_transaction::RemoteStartTransactionResponse>(&payload)?,
        (RemoteStart(_), V201) => {
            check::<m201::request_start_transaction::RequestStartTransactionResponse>(&payload)?;
            if let Some(t) = payload.get("transactionId") {
                extra.insert("transaction_id".into(), t.clone());
            }
        }
        (RemoteStop(_), V16) => check::<m16::remote_stop_transaction::RemoteStopTransactionResponse>(&payload)?,
        (RemoteStop(_), V201) => check::<m201::request_stop_transaction::RequestStopTransactionResponse>(&payload)?,
        (ClearCache, V16) => check::<m16::clear_cache::ClearCacheResponse>(&payload)?,
        (ClearCache, V201) => check::<m201::clear_cache::ClearCacheResponse>(&payload)?,
    }
    Ok(CommandReply {
        status: status_of(&payload),
        extra,
    })
}
