//! 1.6 GetConfiguration, 2.0.1 GetVariables (Actual values of `Component.Variable` keys).

use rust_ocpp::v1_6::messages::get_configuration as g16;
use rust_ocpp::v2_0_1::datatypes::get_variable_data_type::GetVariableDataType;
use rust_ocpp::v2_0_1::messages::get_variables as g201;

use super::message::{Message, component_variable, invalid, key_of};
use super::{CommandReply, ConfigurationEntry, Error, ReplyStatus};
use crate::ocpp::is_secret_variable;

/// `GET /chargers/{id}/configuration?key=...`: the keys asked for (1.6: none means all).
#[derive(Debug, Clone, serde::Serialize)]
pub struct GetConfigurationKeys {
    pub keys: Vec<String>,
}

impl Message for GetConfigurationKeys {
    type V16 = g16::GetConfigurationRequest;
    type V201 = g201::GetVariablesRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        Ok(g16::GetConfigurationRequest {
            key: (!self.keys.is_empty()).then(|| self.keys.clone()),
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        if self.keys.is_empty() {
            return Err(invalid(
                "key",
                "OCPP 2.0.1 chargers need at least one Component.Variable key",
            ));
        }
        let get_variable_data = self
            .keys
            .iter()
            .map(|k| {
                let (component, variable) = component_variable(k)?;
                Ok(GetVariableDataType {
                    attribute_type: None,
                    component,
                    variable,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(g201::GetVariablesRequest { get_variable_data })
    }
}

impl From<g16::GetConfigurationResponse> for CommandReply {
    fn from(a: g16::GetConfigurationResponse) -> Self {
        let entries = a
            .configuration_key
            .unwrap_or_default()
            .into_iter()
            .map(|kv| ConfigurationEntry {
                value: kv.value.filter(|_| !is_secret_variable(&kv.key)),
                key: kv.key,
                readonly: Some(kv.readonly),
                status: None,
                status_info: None,
            });
        CommandReply {
            configuration: Some(entries.collect()),
            unknown_keys: Some(a.unknown_key.unwrap_or_default()),
            ..CommandReply::status(ReplyStatus::Accepted, None)
        }
    }
}

impl From<g201::GetVariablesResponse> for CommandReply {
    fn from(a: g201::GetVariablesResponse) -> Self {
        let entries = a.get_variable_result.into_iter().map(|r| ConfigurationEntry {
            key: key_of(&r.component, &r.variable),
            value: r.attribute_value.filter(|_| !is_secret_variable(&r.variable.name)),
            readonly: None,
            status: Some(r.attribute_status.into()),
            status_info: r.attribute_status_info.map(Into::into),
        });
        CommandReply {
            configuration: Some(entries.collect()),
            ..CommandReply::status(ReplyStatus::Accepted, None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn all_keys_some_keys_and_component_variables() {
        assert_eq!(sent(&GetConfigurationKeys { keys: vec![] }, V16), json!({}));
        let one = GetConfigurationKeys {
            keys: vec!["OCPPCommCtrlr.HeartbeatInterval".into()],
        };
        assert_eq!(sent(&one, V16), json!({"key": ["OCPPCommCtrlr.HeartbeatInterval"]}));
        assert_eq!(
            sent(&one, V201),
            json!({"getVariableData": [{"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}]})
        );
        assert!(prepare(&GetConfigurationKeys { keys: vec![] }, V201, 0).is_err());
        assert!(
            prepare(
                &GetConfigurationKeys {
                    keys: vec!["NoDot".into()]
                },
                V201,
                0
            )
            .is_err()
        );
    }

    #[test]
    fn answers_become_entries() {
        assert_eq!(
            shown::<GetConfigurationKeys>(V16, json!({"unknownKey": ["X"]})),
            json!({"status": "Accepted", "configuration": [], "unknown_keys": ["X"]})
        );
        let answer = json!({"getVariableResult": [{"attributeStatus": "UnknownVariable",
            "component": {"name": "C"}, "variable": {"name": "V"}}]});
        assert_eq!(
            shown::<GetConfigurationKeys>(V201, answer),
            json!({"status": "Accepted", "configuration": [{"key": "C.V", "value": null, "status": "UnknownVariable"}]})
        );
    }
}
