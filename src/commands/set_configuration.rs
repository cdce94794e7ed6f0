//! 1.6 ChangeConfiguration, 2.0.1 SetVariables of one `Component.Variable`.

use rust_ocpp::v1_6::messages::change_configuration as c16;
use rust_ocpp::v2_0_1::datatypes::set_variable_data_type::SetVariableDataType;
use rust_ocpp::v2_0_1::messages::set_variables as s201;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::message::{Message, component_variable, key_of};
use super::{CommandReply, ConfigurationEntry, Error, ReplyStatus};

/// `PUT /chargers/{id}/configuration` (1.6 ChangeConfiguration, 2.0.1 SetVariables)
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationBody {
    /// 1.6: the configuration key; 2.0.1: `Component.Variable`.
    pub key: String,
    pub value: String,
}

impl Message for ConfigurationBody {
    type V16 = c16::ChangeConfigurationRequest;
    type V201 = s201::SetVariablesRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(c16::ChangeConfigurationRequest {
            key: self.key.clone(),
            value: self.value.clone(),
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        let (component, variable) = component_variable(&self.key)?;
        Ok(s201::SetVariablesRequest {
            set_variable_data: vec![SetVariableDataType {
                attribute_type: None,
                attribute_value: self.value.clone(),
                component,
                variable,
            }],
        })
    }
}

/// Each variable's result, keyed by its address; the answer's status is the first that is
/// not `Accepted` (with its reason), else `Accepted`. A charger that returns no result set
/// nothing.
impl From<s201::SetVariablesResponse> for CommandReply {
    fn from(a: s201::SetVariablesResponse) -> Self {
        let entries: Vec<ConfigurationEntry> = a
            .set_variable_result
            .into_iter()
            .map(|r| ConfigurationEntry {
                key: key_of(&r.component, &r.variable),
                value: None,
                readonly: None,
                status: Some(r.attribute_status.into()),
                status_info: r.attribute_status_info.map(Into::into),
            })
            .collect();
        let first_refusal = entries.iter().find(|e| e.status != Some(ReplyStatus::Accepted));
        let (status, status_info) = match (entries.is_empty(), first_refusal) {
            (true, _) => (ReplyStatus::Rejected, None),
            (false, Some(e)) => (e.status.unwrap_or(ReplyStatus::Rejected), e.status_info.clone()),
            (false, None) => (ReplyStatus::Accepted, None),
        };
        CommandReply {
            status,
            status_info,
            configuration: Some(entries),
            ..CommandReply::status(ReplyStatus::Accepted, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn one_variable_and_its_result() {
        let b = ConfigurationBody {
            key: "OCPPCommCtrlr.HeartbeatInterval".into(),
            value: "60".into(),
        };
        assert_eq!(
            sent(&b, V16),
            json!({"key": "OCPPCommCtrlr.HeartbeatInterval", "value": "60"})
        );
        assert_eq!(sent(&b, V201)["setVariableData"][0]["attributeValue"], json!("60"));
        let answer = json!({"setVariableResult": [{"attributeStatus": "Rejected",
            "attributeStatusInfo": {"reasonCode": "ValueOutOfRange"},
            "component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]});
        assert_eq!(
            shown::<ConfigurationBody>(V201, answer),
            json!({"status": "Rejected", "status_info": {"reason_code": "ValueOutOfRange"},
                "configuration": [{"key": "OCPPCommCtrlr.HeartbeatInterval", "value": null, "status": "Rejected",
                    "status_info": {"reason_code": "ValueOutOfRange"}}]})
        );
        assert_eq!(
            shown::<ConfigurationBody>(V201, json!({"setVariableResult": []})),
            json!({"status": "Rejected", "configuration": []})
        );
    }
}
