//! 1.6 ChangeConfiguration, 2.0.1 SetVariables of one `Component.Variable`.

use rust_ocpp::v1_6::messages::change_configuration as c16;
use rust_ocpp::v2_0_1::datatypes::set_variable_data_type::SetVariableDataType;
use rust_ocpp::v2_0_1::messages::set_variables as s201;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::message::{Message, component_variable};
use super::{CommandReply, Error, ReplyStatus};

/// `PUT /chargers/{id}/configuration` (1.6 ChangeConfiguration, 2.0.1 SetVariables)
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationBody {
    /// 1.6: the configuration key; 2.0.1: `Component.Variable`.
    pub key: String,
    pub value: String,
}

impl Message for ConfigurationBody {
    const V16: &'static str = "ChangeConfiguration";
    const V201: &'static str = "SetVariables";
    type Request16 = c16::ChangeConfigurationRequest;
    type Response16 = c16::ChangeConfigurationResponse;
    type Request201 = s201::SetVariablesRequest;
    type Response201 = s201::SetVariablesResponse;

    fn v16(&self) -> Result<Self::Request16, Error> {
        Ok(c16::ChangeConfigurationRequest {
            key: self.key.clone(),
            value: self.value.clone(),
        })
    }

    fn v201(&self, _: i32) -> Result<Self::Request201, Error> {
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

    fn reply16(a: Self::Response16) -> CommandReply {
        CommandReply::status(a.status, None)
    }

    /// One variable was set, so its result is the answer; a charger that returns no result
    /// did not set it.
    fn reply201(a: Self::Response201) -> CommandReply {
        match a.set_variable_result.into_iter().next() {
            Some(r) => CommandReply::status(r.attribute_status, r.attribute_status_info),
            None => CommandReply::status(ReplyStatus::Rejected, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::commands::message::tests::{sent, shown};
    use crate::ocpp::OcppVersion::{V16, V201};

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
            json!({"status": "Rejected", "status_info": {"reason_code": "ValueOutOfRange"}})
        );
        assert_eq!(
            shown::<ConfigurationBody>(V201, json!({"setVariableResult": []})),
            json!({"status": "Rejected"})
        );
    }
}
