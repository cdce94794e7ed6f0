//! The OCPP protocol itself, with no I/O and no database: OCPP-J framing, CALLERROR codes,
//! version negotiation and the typed requests/responses of each version (rust-ocpp types).
//!
//! The gateway hands text frames to [`Frame::decode`], typed requests to the station and
//! encodes what comes back; nothing here knows where bytes come from or go to.

mod error;
mod frame;
mod identity;
mod secrets;
mod text;
mod time;
mod version;

pub mod v16;
pub mod v201;

pub use error::{CallRejection, ErrorCode};
pub use frame::{Frame, FrameError, UNKNOWN_MESSAGE_ID};
pub use identity::{ChargerId, InvalidChargerId};
pub use secrets::{REDACTED, hide_private_keys, holds_private_key, is_secret_variable};
pub use text::Text;
pub use time::{millis, now};
pub use version::OcppVersion;

/// Firmware statuses (1.6 FirmwareStatus and the security whitepaper's, 2.0.1
/// FirmwareStatusEnumType) that end an update without installing it.
pub const FIRMWARE_FAILED: &[&str] = &[
    "DownloadFailed",
    "InstallationFailed",
    "InstallVerificationFailed",
    "InvalidSignature",
    "SignatureVerificationFailed",
];

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A charger-initiated request, typed for the negotiated version.
// Requests and responses live for one handler call and are moved once; boxing buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Request {
    V16(v16::Request),
    V201(v201::Request),
}

impl Request {
    /// Types a CALL's payload for `version`, or says which CALLERROR it deserves.
    pub fn parse(version: OcppVersion, action: &str, payload: Value) -> Result<Self, CallRejection> {
        match version {
            OcppVersion::V16 => v16::Request::parse(action, payload).map(Request::V16),
            OcppVersion::V201 => v201::Request::parse(action, payload).map(Request::V201),
        }
    }

    /// The OCPP action name.
    pub fn action(&self) -> &'static str {
        match self {
            Request::V16(r) => r.action(),
            Request::V201(r) => r.action(),
        }
    }
}

/// The CSMS's answer to a [`Request`].
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Response {
    V16(v16::Response),
    V201(v201::Response),
}

impl From<v16::Response> for Response {
    fn from(response: v16::Response) -> Self {
        Response::V16(response)
    }
}

impl From<v201::Response> for Response {
    fn from(response: v201::Response) -> Self {
        Response::V201(response)
    }
}

impl Response {
    /// The CALLRESULT payload.
    pub fn to_payload(&self) -> Result<Value, serde_json::Error> {
        match self {
            Response::V16(r) => r.to_payload(),
            Response::V201(r) => r.to_payload(),
        }
    }
}

/// Deserialises a payload, classifying failures the way the OCPP-J specs name them.
fn decode<T: DeserializeOwned>(payload: Value) -> Result<T, CallRejection> {
    serde_path_to_error::deserialize(payload).map_err(|err| {
        let path = err.path().to_string();
        let message = err.into_inner().to_string();
        // serde's messages are the only signal it gives; their prefixes are stable API text.
        let code = if message.starts_with("missing field") {
            ErrorCode::OccurrenceConstraintViolation
        } else if message.starts_with("invalid type") {
            ErrorCode::TypeConstraintViolation
        } else {
            ErrorCode::PropertyConstraintViolation
        };
        let (description, field) = if path == "." {
            (message, None)
        } else {
            (format!("{path}: {message}"), Some(path))
        };
        CallRejection {
            code,
            description,
            field,
        }
    })
}

/// Serialises an enum from rust-ocpp to the string the spec uses for it.
pub fn enum_name<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// Declares a version's charger-initiated messages: a typed `Request`/`Response` pair per
/// action. Every action the spec lets a charger send is here, so any other name is unknown.
macro_rules! charger_messages {
    ( $( $action:ident ( $req:ty => $resp:ty ) ),* $(,)? ) => {
        /// A charger-initiated request of this version.
        // Requests live for one handler call and are moved once; boxing buys nothing.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone)]
        pub enum Request { $( $action($req), )* }

        /// The CSMS's answer to a [`Request`] of this version.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone)]
        pub enum Response { $( $action($resp), )* }

        /// Every action a charger of this version may send.
        pub const ACTIONS: &[&str] = &[ $( stringify!($action), )* ];

        impl Request {
            /// Types a payload by action name.
            pub fn parse(action: &str, payload: serde_json::Value) -> Result<Self, $crate::ocpp::CallRejection> {
                use $crate::ocpp::{CallRejection, ErrorCode};
                match action {
                    $( stringify!($action) => $crate::ocpp::decode(payload).map(Request::$action), )*
                    _ => Err(CallRejection::new(ErrorCode::NotImplemented, format!("unknown action {action:?}"))),
                }
            }

            /// The OCPP action name.
            pub fn action(&self) -> &'static str {
                match self { $( Request::$action(_) => stringify!($action), )* }
            }
        }

        impl Response {
            /// The CALLRESULT payload.
            pub fn to_payload(&self) -> Result<serde_json::Value, serde_json::Error> {
                match self { $( Response::$action(r) => serde_json::to_value(r), )* }
            }
        }
    };
}
use charger_messages;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rejection(version: OcppVersion, action: &str, payload: Value) -> CallRejection {
        Request::parse(version, action, payload).expect_err("should be rejected")
    }

    #[test]
    fn types_spec_example_payloads() {
        let boot16 = json!({"chargePointVendor": "VendorX", "chargePointModel": "SingleSocketCharger"});
        assert!(matches!(
            Request::parse(OcppVersion::V16, "BootNotification", boot16),
            Ok(Request::V16(v16::Request::BootNotification(_)))
        ));
        let boot201 =
            json!({"reason": "PowerUp", "chargingStation": {"model": "SingleSocketCharger", "vendorName": "VendorX"}});
        assert!(matches!(
            Request::parse(OcppVersion::V201, "BootNotification", boot201),
            Ok(Request::V201(v201::Request::BootNotification(_)))
        ));
        let status201 =
            json!({"timestamp": "2024-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": 1, "connectorId": 1});
        assert!(Request::parse(OcppVersion::V201, "StatusNotification", status201).is_ok());
    }

    #[test]
    fn classifies_payload_errors_per_spec() {
        use ErrorCode::*;
        let v16 = OcppVersion::V16;
        let missing = rejection(v16, "BootNotification", json!({"chargePointVendor": "V"}));
        assert_eq!(missing.code, OccurrenceConstraintViolation);
        assert!(
            missing.description.contains("chargePointModel"),
            "{}",
            missing.description
        );

        let wrong_type = rejection(
            v16,
            "StatusNotification",
            json!({"connectorId": "one", "errorCode": "NoError", "status": "Available"}),
        );
        assert_eq!(wrong_type.code, TypeConstraintViolation);
        assert_eq!(wrong_type.field.as_deref(), Some("connectorId"));

        let bad_enum = rejection(
            v16,
            "StatusNotification",
            json!({"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}),
        );
        assert_eq!(bad_enum.code, PropertyConstraintViolation);

        let bad_time = rejection(
            OcppVersion::V201,
            "StatusNotification",
            json!({"timestamp": "yesterday", "connectorStatus": "Available", "evseId": 1, "connectorId": 1}),
        );
        assert_eq!(bad_time.code, PropertyConstraintViolation);
    }

    #[test]
    fn unknown_actions() {
        assert_eq!(
            rejection(OcppVersion::V16, "MakeCoffee", json!({})).code,
            ErrorCode::NotImplemented
        );
        // A CSMS-to-charger action is not one a charger may send.
        assert_eq!(
            rejection(OcppVersion::V201, "Reset", json!({"type": "Immediate"})).code,
            ErrorCode::NotImplemented
        );
        // An action of the other version is unknown to this one.
        assert_eq!(
            rejection(OcppVersion::V16, "TransactionEvent", json!({})).code,
            ErrorCode::NotImplemented
        );
    }

    #[test]
    fn responses_serialise_in_camel_case() {
        let resp = v16::Response::Heartbeat(rust_ocpp::v1_6::messages::heart_beat::HeartbeatResponse {
            current_time: chrono::DateTime::parse_from_rfc3339("2024-01-01T00:00:00Z")
                .unwrap()
                .to_utc(),
        });
        let payload = resp.to_payload().unwrap();
        assert!(payload.get("currentTime").is_some(), "{payload}");
    }
}
