//! OCPP-J RPC framing (OCPP-J 1.6 §4, OCPP 2.0.1 part 4 §4): a frame is a JSON array
//! `[2, id, action, payload]` (CALL), `[3, id, payload]` (CALLRESULT) or
//! `[4, id, code, description, details]` (CALLERROR).

use serde_json::{Map, Value, json};

use super::error::ErrorCode;

/// Message id used in a CALLERROR when the offending message's own id cannot be read
/// (OCPP 2.0.1 part 4 §4.2.3).
pub const UNKNOWN_MESSAGE_ID: &str = "-1";

/// The OCPP spec caps message ids at 36 characters.
const MAX_MESSAGE_ID_LEN: usize = 36;

/// One decoded OCPP-J frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Call {
        id: String,
        action: String,
        payload: Value,
    },
    CallResult {
        id: String,
        payload: Value,
    },
    CallError {
        id: String,
        code: String,
        description: String,
        details: Value,
    },
}

/// Why a text frame is not a valid OCPP-J message.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError {
    /// The message id, when it could be read.
    pub id: Option<String>,
    /// The version-neutral error code to answer with.
    pub code: ErrorCode,
    /// Human-readable cause, sent as the CALLERROR description.
    pub description: String,
    /// False when the spec forbids answering (a broken CALLRESULT or CALLERROR).
    pub reply: bool,
}

impl FrameError {
    fn new(id: Option<String>, code: ErrorCode, description: impl Into<String>) -> Self {
        Self {
            id,
            code,
            description: description.into(),
            reply: true,
        }
    }
}

impl Frame {
    /// Decodes one text frame.
    pub fn decode(text: &str) -> Result<Frame, FrameError> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| FrameError::new(None, ErrorCode::RpcFrameworkError, format!("not valid JSON: {e}")))?;
        let Value::Array(items) = value else {
            return Err(FrameError::new(
                None,
                ErrorCode::RpcFrameworkError,
                "message is not a JSON array",
            ));
        };
        let id = match items.get(1) {
            Some(Value::String(s)) if !s.is_empty() && s.len() <= MAX_MESSAGE_ID_LEN => Some(s.clone()),
            _ => None,
        };
        let message_type = items.first().and_then(Value::as_u64);
        let Some(message_type) = message_type else {
            return Err(FrameError::new(
                id,
                ErrorCode::RpcFrameworkError,
                "MessageTypeId is missing or not a number",
            ));
        };
        if !(2..=4).contains(&message_type) {
            return Err(FrameError::new(
                id,
                ErrorCode::MessageTypeNotSupported,
                format!("MessageTypeId {message_type} is not supported"),
            ));
        }
        let Some(id) = id else {
            let mut err = FrameError::new(
                None,
                ErrorCode::RpcFrameworkError,
                "MessageId is missing or not a string of 1 to 36 characters",
            );
            err.reply = message_type == 2;
            return Err(err);
        };
        match message_type {
            2 => Self::call(id, items),
            3 => Self::call_result(id, items),
            _ => Self::call_error(id, items),
        }
    }

    fn call(id: String, mut items: Vec<Value>) -> Result<Frame, FrameError> {
        if items.len() != 4 {
            return Err(FrameError::new(
                Some(id),
                ErrorCode::RpcFrameworkError,
                format!("a CALL has 4 elements, got {}", items.len()),
            ));
        }
        let payload = items.pop().unwrap_or(Value::Null);
        let Some(Value::String(action)) = items.pop() else {
            return Err(FrameError::new(
                Some(id),
                ErrorCode::RpcFrameworkError,
                "Action is not a string",
            ));
        };
        if !payload.is_object() {
            return Err(FrameError::new(
                Some(id),
                ErrorCode::FormatViolation,
                "payload is not a JSON object",
            ));
        }
        Ok(Frame::Call { id, action, payload })
    }

    /// A malformed answer is not answered (there is nothing to answer to), only dropped.
    fn call_result(id: String, mut items: Vec<Value>) -> Result<Frame, FrameError> {
        if items.len() != 3 || !items[2].is_object() {
            let mut err = FrameError::new(Some(id), ErrorCode::RpcFrameworkError, "malformed CALLRESULT");
            err.reply = false;
            return Err(err);
        }
        let payload = items.pop().unwrap_or(Value::Null);
        Ok(Frame::CallResult { id, payload })
    }

    /// 1.6 chargers in the wild sometimes omit the details object; accept 4 or 5 elements.
    fn call_error(id: String, items: Vec<Value>) -> Result<Frame, FrameError> {
        let code = items.get(2).and_then(Value::as_str);
        let description = items.get(3).and_then(Value::as_str);
        match (items.len(), code, description) {
            (4 | 5, Some(code), Some(description)) => Ok(Frame::CallError {
                code: code.to_owned(),
                description: description.to_owned(),
                details: items.get(4).cloned().unwrap_or_else(|| Value::Object(Map::new())),
                id,
            }),
            _ => {
                let mut err = FrameError::new(Some(id), ErrorCode::RpcFrameworkError, "malformed CALLERROR");
                err.reply = false;
                Err(err)
            }
        }
    }

    /// Encodes the frame as the JSON text sent on the wire.
    pub fn encode(&self) -> String {
        let value = match self {
            Frame::Call { id, action, payload } => json!([2, id, action, payload]),
            Frame::CallResult { id, payload } => json!([3, id, payload]),
            Frame::CallError {
                id,
                code,
                description,
                details,
            } => json!([4, id, code, description, details]),
        };
        value.to_string()
    }

    /// The frame's message id.
    pub fn id(&self) -> &str {
        match self {
            Frame::Call { id, .. } | Frame::CallResult { id, .. } | Frame::CallError { id, .. } => id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_spec_examples() {
        // OCPP-J 1.6 §4.2.1 / §4.2.2 examples.
        let call = Frame::decode(r#"[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}]"#).unwrap();
        assert_eq!(
            call,
            Frame::Call {
                id: "19223201".into(),
                action: "BootNotification".into(),
                payload: json!({"chargePointVendor":"VendorX","chargePointModel":"SingleSocketCharger"}),
            }
        );
        let result = Frame::decode(
            r#"[3,"19223201",{"currentTime":"2013-02-01T20:53:32.486Z","interval":300,"status":"Accepted"}]"#,
        )
        .unwrap();
        assert!(matches!(result, Frame::CallResult { ref id, .. } if id == "19223201"));
        let error =
            Frame::decode(r#"[4,"162376037","NotSupported","SetDisplayMessageRequest not implemented",{}]"#).unwrap();
        assert!(matches!(error, Frame::CallError { ref code, .. } if code == "NotSupported"));
    }

    #[test]
    fn encode_round_trips() {
        let f = Frame::CallError {
            id: "1".into(),
            code: "NotImplemented".into(),
            description: "nope".into(),
            details: json!({}),
        };
        assert_eq!(f.encode(), r#"[4,"1","NotImplemented","nope",{}]"#);
        assert_eq!(Frame::decode(&f.encode()).unwrap(), f);
    }

    #[test]
    fn classifies_bad_frames() {
        let cases: &[(&str, Option<&str>, ErrorCode, bool)] = &[
            ("not json", None, ErrorCode::RpcFrameworkError, true),
            (r#"{"a":1}"#, None, ErrorCode::RpcFrameworkError, true),
            ("[]", None, ErrorCode::RpcFrameworkError, true),
            (
                r#"[7,"a","Heartbeat",{}]"#,
                Some("a"),
                ErrorCode::MessageTypeNotSupported,
                true,
            ),
            (
                r#"["2","a","Heartbeat",{}]"#,
                Some("a"),
                ErrorCode::RpcFrameworkError,
                true,
            ),
            (r#"[2,5,"Heartbeat",{}]"#, None, ErrorCode::RpcFrameworkError, true),
            (r#"[2,"a","Heartbeat"]"#, Some("a"), ErrorCode::RpcFrameworkError, true),
            (r#"[2,"a",7,{}]"#, Some("a"), ErrorCode::RpcFrameworkError, true),
            (r#"[2,"a","Heartbeat",[]]"#, Some("a"), ErrorCode::FormatViolation, true),
            (r#"[3,"a"]"#, Some("a"), ErrorCode::RpcFrameworkError, false),
            (r#"[4,"a",1]"#, Some("a"), ErrorCode::RpcFrameworkError, false),
        ];
        for (text, id, code, reply) in cases {
            let err = Frame::decode(text).expect_err(text);
            assert_eq!(err.id.as_deref(), *id, "{text}");
            assert_eq!(err.code, *code, "{text}");
            assert_eq!(err.reply, *reply, "{text}");
        }
    }

    #[test]
    fn over_long_message_id_is_unreadable() {
        let long = "x".repeat(37);
        let err = Frame::decode(&format!(r#"[2,"{long}","Heartbeat",{{}}]"#)).unwrap_err();
        assert_eq!(err.id, None);
    }
}
