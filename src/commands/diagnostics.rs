//! 1.6 GetDiagnostics, 2.0.1 GetLog (DiagnosticsLog): the charger uploads a file and reports
//! progress in DiagnosticsStatusNotification / LogStatusNotification.

use chrono::{DateTime, Utc};
use rust_ocpp::v1_6::messages::get_diagnostics as d16;
use rust_ocpp::v2_0_1::datatypes::log_parameters_type::LogParametersType;
use rust_ocpp::v2_0_1::{enumerations::log_enum_type::LogEnumType, messages::get_log as l201};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::message::Message;
use super::{CommandReply, Error, ReplyStatus};
use crate::ocpp::millis;

/// `POST /chargers/{id}/diagnostics` (1.6 GetDiagnostics, 2.0.1 GetLog)
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsBody {
    /// URI the charger uploads to.
    pub location: String,
    pub start: Option<DateTime<Utc>>,
    pub stop: Option<DateTime<Utc>>,
}

impl Message for DiagnosticsBody {
    type V16 = d16::GetDiagnosticsRequest;
    type V201 = l201::GetLogRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(d16::GetDiagnosticsRequest {
            location: self.location.clone(),
            retries: None,
            retry_interval: None,
            start_time: self.start.map(millis),
            stop_time: self.stop.map(millis),
        })
    }

    fn v201(&self, request_id: i32) -> Result<Self::V201, Error> {
        Ok(l201::GetLogRequest {
            log_type: LogEnumType::DiagnosticsLog,
            request_id,
            retries: None,
            retry_interval: None,
            log: LogParametersType {
                remote_location: self.location.clone(),
                oldest_timestamp: self.start,
                latest_timestamp: self.stop,
            },
        })
    }
}

/// 1.6 answers with the file name only; without one there is nothing to upload, which
/// the charger still accepted.
impl From<d16::GetDiagnosticsResponse> for CommandReply {
    fn from(a: d16::GetDiagnosticsResponse) -> Self {
        CommandReply {
            file_name: a.file_name,
            ..CommandReply::status(ReplyStatus::Accepted, None)
        }
    }
}

impl From<l201::GetLogResponse> for CommandReply {
    fn from(a: l201::GetLogResponse) -> Self {
        CommandReply {
            file_name: a.filename,
            ..CommandReply::status(a.status, a.status_info)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn requests_and_file_names() {
        let b = DiagnosticsBody {
            location: "ftp://diag.example/up".into(),
            start: None,
            stop: None,
        };
        assert_eq!(sent(&b, V16), json!({"location": "ftp://diag.example/up"}));
        assert_eq!(
            sent(&b, V201),
            json!({"logType": "DiagnosticsLog", "requestId": 7, "log": {"remoteLocation": "ftp://diag.example/up"}})
        );
        assert_eq!(
            shown::<DiagnosticsBody>(V16, json!({"fileName": "d.zip"})),
            json!({"status": "Accepted", "file_name": "d.zip"})
        );
        assert_eq!(
            shown::<DiagnosticsBody>(V201, json!({"status": "Rejected"})),
            json!({"status": "Rejected"})
        );
    }
}
