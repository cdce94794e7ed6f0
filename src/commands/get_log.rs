//! GetLog in both versions (2.0.1 N01, the 1.6 security whitepaper's GetLog beside
//! GetDiagnostics): the charger uploads its diagnostics or security log; progress follows as
//! LogStatusNotification with this command's request id. A security log needs charger
//! security: it is the charger's record of attacks, not an engineer's debugging aid.

use chrono::{DateTime, Utc};
use rust_ocpp::v2_0_1::datatypes::log_parameters_type::LogParametersType;
use rust_ocpp::v2_0_1::{enumerations::log_enum_type::LogEnumType, messages::get_log as l201};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::CommandReply;
use super::Error;
use super::message::Message;
use crate::ocpp::millis;
use crate::ocpp::v16::get_log as l16;

/// Which log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    Diagnostics,
    Security,
}

/// `POST /chargers/{id}/logs`
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogBody {
    pub log_type: LogKind,
    /// URI the charger uploads to.
    pub location: String,
    pub start: Option<DateTime<Utc>>,
    pub stop: Option<DateTime<Utc>>,
    pub retries: Option<i32>,
    pub retry_interval_s: Option<i32>,
}

impl Message for LogBody {
    type V16 = l16::GetLogRequest;
    type V201 = l201::GetLogRequest;

    fn v16(&self, request_id: i32) -> Result<Self::V16, Error> {
        Ok(l16::GetLogRequest {
            log: l16::LogParameters {
                remote_location: self.location.clone(),
                oldest_timestamp: self.start.map(millis),
                latest_timestamp: self.stop.map(millis),
            },
            log_type: match self.log_type {
                LogKind::Diagnostics => l16::LogType::DiagnosticsLog,
                LogKind::Security => l16::LogType::SecurityLog,
            },
            request_id,
            retries: self.retries,
            retry_interval: self.retry_interval_s,
        })
    }

    fn v201(&self, request_id: i32) -> Result<Self::V201, Error> {
        Ok(l201::GetLogRequest {
            log_type: match self.log_type {
                LogKind::Diagnostics => LogEnumType::DiagnosticsLog,
                LogKind::Security => LogEnumType::SecurityLog,
            },
            request_id,
            retries: self.retries,
            retry_interval: self.retry_interval_s,
            log: LogParametersType {
                remote_location: self.location.clone(),
                oldest_timestamp: self.start,
                latest_timestamp: self.stop,
            },
        })
    }
}

impl From<l16::GetLogResponse> for CommandReply {
    fn from(a: l16::GetLogResponse) -> Self {
        CommandReply {
            file_name: a.filename,
            ..CommandReply::status(a.status, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn both_versions_ask_for_the_log_with_the_request_id() {
        let b = LogBody {
            log_type: LogKind::Security,
            location: "https://logs.example/up".into(),
            start: None,
            stop: None,
            retries: None,
            retry_interval_s: None,
        };
        let expected =
            json!({"logType": "SecurityLog", "requestId": 7, "log": {"remoteLocation": "https://logs.example/up"}});
        assert_eq!(sent(&b, V16), expected);
        assert_eq!(sent(&b, V201), expected);
        assert_eq!(
            shown::<LogBody>(V16, json!({"status": "Accepted", "filename": "sec.log"})),
            json!({"status": "Accepted", "file_name": "sec.log"})
        );
    }
}
