//! Secrets out of logged frames: values of credential variables (by name, or write-only in
//! the charger's device model) and private keys anywhere, replaced by a marker before a frame
//! is stored.

use std::borrow::Cow;

use serde_json::Value;

use crate::ocpp::{REDACTED as MARKER, holds_private_key, is_secret_variable};

/// Actions whose frames can carry a variable's value: only these are parsed.
const CARRY_VALUES: &[&str] = &[
    "SetVariables",
    "GetVariables",
    "NotifyReport",
    "NotifyEvent",
    "ChangeConfiguration",
    "GetConfiguration",
    "DataTransfer",
];

/// `text` with every secret replaced; borrowed when there was nothing to replace.
/// `write_only(component, variable)` says what the charger's device model marks write-only.
pub fn redact<'a>(text: &'a str, action: Option<&str>, write_only: &dyn Fn(&str, &str) -> bool) -> Cow<'a, str> {
    let carries = action.is_some_and(|a| CARRY_VALUES.contains(&a));
    if !carries && !holds_private_key(text) {
        return Cow::Borrowed(text);
    }
    let Ok(mut frame) = serde_json::from_str::<Value>(text) else {
        // Not JSON: nothing to walk, but a key in it is still a key.
        return if holds_private_key(text) {
            Cow::Owned(MARKER.to_owned())
        } else {
            Cow::Borrowed(text)
        };
    };
    if scrub(&mut frame, write_only) {
        Cow::Owned(frame.to_string())
    } else {
        Cow::Borrowed(text)
    }
}

/// [`redact`] of an owned frame: the same text back, without a copy, when nothing was secret.
pub fn redact_owned(text: String, action: Option<&str>, write_only: &dyn Fn(&str, &str) -> bool) -> String {
    let replaced = match redact(&text, action, write_only) {
        Cow::Owned(replaced) => Some(replaced),
        Cow::Borrowed(_) => None,
    };
    replaced.unwrap_or(text)
}

/// Walks `value`, replacing secrets in place; true if anything was replaced.
fn scrub(value: &mut Value, write_only: &dyn Fn(&str, &str) -> bool) -> bool {
    match value {
        Value::String(s) if holds_private_key(s) => {
            *s = MARKER.to_owned();
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |any, v| scrub(v, write_only) | any),
        Value::Object(map) => {
            let mut any = false;
            let secret = secret_here(map, write_only);
            for (field, v) in map.iter_mut() {
                if secret && VALUE_FIELDS.contains(&field.as_str()) && v.is_string() {
                    *v = Value::String(MARKER.to_owned());
                    any = true;
                } else if secret && field == "variableAttribute" {
                    any |= mark_values(v);
                } else {
                    any |= scrub(v, write_only);
                }
            }
            any
        }
        _ => false,
    }
}

/// Fields that hold a variable's value in 2.0.1 (`attributeValue`, `actualValue`,
/// `value` of an attribute) and 1.6 (`value` of a configuration key).
const VALUE_FIELDS: &[&str] = &["attributeValue", "actualValue", "value"];

/// Whether this object names a secret: a 2.0.1 `{component, variable}` pair or a 1.6 `key`.
fn secret_here(map: &serde_json::Map<String, Value>, write_only: &dyn Fn(&str, &str) -> bool) -> bool {
    if let Some(Value::String(key)) = map.get("key") {
        return is_secret_variable(key) || write_only("", key);
    }
    let name = |field: &str| map.get(field).and_then(|v| v.get("name")).and_then(Value::as_str);
    match (name("component"), name("variable")) {
        (Some(component), Some(variable)) => is_secret_variable(variable) || write_only(component, variable),
        _ => false,
    }
}

/// Replaces the `value` of every attribute in a NotifyReport `variableAttribute` list.
fn mark_values(attributes: &mut Value) -> bool {
    let mut any = false;
    for attribute in attributes.as_array_mut().into_iter().flatten() {
        if let Some(v) = attribute.get_mut("value").filter(|v| v.is_string()) {
            *v = Value::String(MARKER.to_owned());
            any = true;
        }
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str, _: &str) -> bool {
        false
    }

    #[test]
    fn a_set_password_never_survives() {
        let frame = r#"[2,"vg1","SetVariables",{"setVariableData":[{"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"},"attributeValue":"hunter2hunter2hunter2"},{"component":{"name":"OCPPCommCtrlr"},"variable":{"name":"HeartbeatInterval"},"attributeValue":"300"}]}]"#;
        let out = redact(frame, Some("SetVariables"), &none);
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains(MARKER) && out.contains("\"300\""), "{out}");
    }

    #[test]
    fn a_16_authorization_key_and_a_reported_secret_are_replaced() {
        let change = r#"[2,"vg2","ChangeConfiguration",{"key":"AuthorizationKey","value":"00112233445566778899"}]"#;
        assert!(!redact(change, Some("ChangeConfiguration"), &none).contains("0011223344"));
        let got = r#"[3,"vg3",{"configurationKey":[{"key":"AuthorizationKey","readonly":false,"value":"abcdef0123"},{"key":"HeartbeatInterval","readonly":false,"value":"60"}]}]"#;
        let out = redact(got, Some("GetConfiguration"), &none);
        assert!(!out.contains("abcdef0123") && out.contains("\"60\""), "{out}");
        let report = r#"[2,"7","NotifyReport",{"requestId":1,"generatedAt":"2026-12-03T00:00:00Z","seqNo":0,"reportData":[{"component":{"name":"SecurityCtrlr"},"variable":{"name":"BasicAuthPassword"},"variableAttribute":[{"value":"s3cr3t-s3cr3t-s3cr3t"}]}]}]"#;
        assert!(!redact(report, Some("NotifyReport"), &none).contains("s3cr3t"));
    }

    #[test]
    fn write_only_variables_and_private_keys_are_replaced_untouched_frames_borrowed() {
        let frame = r#"[2,"vg4","SetVariables",{"setVariableData":[{"component":{"name":"Vendor"},"variable":{"name":"ApiToken"},"attributeValue":"tok-123456"}]}]"#;
        let write_only = |c: &str, v: &str| c == "Vendor" && v == "ApiToken";
        assert!(!redact(frame, Some("SetVariables"), &write_only).contains("tok-123456"));
        assert!(redact(frame, Some("SetVariables"), &none).contains("tok-123456"));
        let key = r#"[2,"9","DataTransfer",{"vendorId":"x","data":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"}]"#;
        assert!(!redact(key, Some("DataTransfer"), &none).contains("MIIE"));
        let heartbeat = r#"[2,"1","Heartbeat",{}]"#;
        assert!(matches!(redact(heartbeat, Some("Heartbeat"), &none), Cow::Borrowed(_)));
    }
}
