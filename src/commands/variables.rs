//! Reading and writing a charger's variables by their full 2.0.1 address (component and its
//! instance, EVSE, connector, variable and its instance, attribute): 2.0.1 GetVariables and
//! SetVariables; 1.6 GetConfiguration and ChangeConfiguration, where the variable is the key.

use rust_ocpp::v1_6::messages::{change_configuration as c16, get_configuration as g16};
use rust_ocpp::v2_0_1::datatypes::{
    component_type::ComponentType, evse_type::EVSEType, get_variable_data_type::GetVariableDataType,
    set_variable_data_type::SetVariableDataType, variable_type::VariableType,
};
use rust_ocpp::v2_0_1::enumerations::attribute_enum_type::AttributeEnumType;
use rust_ocpp::v2_0_1::messages::{get_variables as g201, set_variables as s201};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Error;
use super::message::{Message, invalid, key_of};

/// Where a variable is, as 2.0.1 addresses it (1.6: `variable` is the configuration key).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariableAddress {
    #[schema(min_length = 1, max_length = 50)]
    pub component: String,
    #[schema(max_length = 50)]
    pub component_instance: Option<String>,
    #[schema(minimum = 0, maximum = 1000)]
    pub evse_id: Option<i32>,
    #[schema(minimum = 0, maximum = 1000)]
    pub connector_id: Option<i32>,
    #[schema(min_length = 1, max_length = 50)]
    pub variable: String,
    #[schema(max_length = 50)]
    pub variable_instance: Option<String>,
    /// Default `Actual`.
    pub attribute: Option<Attribute>,
}

/// A variable's attributes (2.0.1 AttributeEnumType).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub enum Attribute {
    #[default]
    Actual,
    Target,
    MinSet,
    MaxSet,
}

impl Attribute {
    fn v201(self) -> AttributeEnumType {
        match self {
            Attribute::Actual => AttributeEnumType::Actual,
            Attribute::Target => AttributeEnumType::Target,
            Attribute::MinSet => AttributeEnumType::MinSet,
            Attribute::MaxSet => AttributeEnumType::MaxSet,
        }
    }

    /// The name the device model stores.
    pub fn as_str(self) -> &'static str {
        match self {
            Attribute::Actual => "Actual",
            Attribute::Target => "Target",
            Attribute::MinSet => "MinSet",
            Attribute::MaxSet => "MaxSet",
        }
    }
}

impl VariableAddress {
    /// The 2.0.1 component and variable, or which field cannot be sent.
    pub fn v201(&self) -> Result<(ComponentType, VariableType), Error> {
        let name = |field: &str, text: &str| match text.chars().count() {
            1..=50 => Ok(()),
            _ => Err(invalid(field, "must be 1 to 50 characters")),
        };
        name("component", &self.component)?;
        name("variable", &self.variable)?;
        for (field, instance) in [
            ("component_instance", &self.component_instance),
            ("variable_instance", &self.variable_instance),
        ] {
            if let Some(instance) = instance {
                name(field, instance)?;
            }
        }
        let evse = match (self.evse_id, self.connector_id) {
            (Some(id), connector_id) => Some(EVSEType { id, connector_id }),
            (None, Some(_)) => return Err(invalid("connector_id", "needs evse_id")),
            (None, None) => None,
        };
        Ok((
            ComponentType {
                name: self.component.clone(),
                instance: self.component_instance.clone(),
                evse,
            },
            VariableType {
                name: self.variable.clone(),
                instance: self.variable_instance.clone(),
            },
        ))
    }

    /// The key its result carries in the answer (`Component[instance]@evse/connector.Variable[instance]`).
    pub fn key(&self, version_201: bool) -> Result<String, Error> {
        if !version_201 {
            return Ok(self.variable.clone());
        }
        let (c, v) = self.v201()?;
        Ok(key_of(&c, &v))
    }

    fn attribute(&self) -> Attribute {
        self.attribute.unwrap_or_default()
    }

    /// 1.6 has keys only: one attribute, no component parts.
    fn v16_key(&self) -> Result<String, Error> {
        if self.attribute() != Attribute::Actual {
            return Err(invalid("attribute", "OCPP 1.6 keys have only their value"));
        }
        if self.component_instance.is_some() || self.evse_id.is_some() || self.variable_instance.is_some() {
            return Err(invalid("variable", "OCPP 1.6 keys have no instances or EVSEs"));
        }
        Ok(self.variable.clone())
    }
}

/// One value to set.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VariableSetting {
    #[schema(min_length = 1, max_length = 50)]
    pub component: String,
    #[schema(max_length = 50)]
    pub component_instance: Option<String>,
    #[schema(minimum = 0, maximum = 1000)]
    pub evse_id: Option<i32>,
    #[schema(minimum = 0, maximum = 1000)]
    pub connector_id: Option<i32>,
    #[schema(min_length = 1, max_length = 50)]
    pub variable: String,
    #[schema(max_length = 50)]
    pub variable_instance: Option<String>,
    pub attribute: Option<Attribute>,
    #[schema(max_length = 1000)]
    pub value: String,
}

impl VariableSetting {
    /// Where it goes.
    pub fn address(&self) -> VariableAddress {
        VariableAddress {
            component: self.component.clone(),
            component_instance: self.component_instance.clone(),
            evse_id: self.evse_id,
            connector_id: self.connector_id,
            variable: self.variable.clone(),
            variable_instance: self.variable_instance.clone(),
            attribute: self.attribute,
        }
    }
}

/// At most this many per request (the 2.0.1 `ItemsPerMessage` of most stations is far more).
const MAX_ITEMS: usize = 50;

fn check_count(n: usize, v16: bool) -> Result<(), Error> {
    match n {
        0 => Err(invalid("items", "name at least one variable")),
        n if n > MAX_ITEMS => Err(invalid("items", format!("at most {MAX_ITEMS} per request"))),
        n if v16 && n > 1 => Err(invalid("items", "OCPP 1.6 changes one key per request")),
        _ => Ok(()),
    }
}

/// `POST /chargers/{id}/variables`: values to set.
#[derive(Debug, Clone, Serialize)]
pub struct SetVariablesBody {
    pub items: Vec<VariableSetting>,
}

impl Message for SetVariablesBody {
    type V16 = c16::ChangeConfigurationRequest;
    type V201 = s201::SetVariablesRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        check_count(self.items.len(), true)?;
        let setting = &self.items[0];
        Ok(c16::ChangeConfigurationRequest {
            key: setting.address().v16_key()?,
            value: setting.value.clone(),
        })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        check_count(self.items.len(), false)?;
        let set_variable_data = self
            .items
            .iter()
            .map(|s| {
                let address = s.address();
                let (component, variable) = address.v201()?;
                Ok(SetVariableDataType {
                    attribute_type: Some(address.attribute().v201()),
                    attribute_value: s.value.clone(),
                    component,
                    variable,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(s201::SetVariablesRequest { set_variable_data })
    }
}

/// `POST /chargers/{id}/variables/get`: variables to read.
#[derive(Debug, Clone, Serialize)]
pub struct GetVariablesBody {
    pub items: Vec<VariableAddress>,
}

impl Message for GetVariablesBody {
    type V16 = g16::GetConfigurationRequest;
    type V201 = g201::GetVariablesRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        check_count(self.items.len(), false)?;
        let keys = self
            .items
            .iter()
            .map(VariableAddress::v16_key)
            .collect::<Result<_, _>>()?;
        Ok(g16::GetConfigurationRequest { key: Some(keys) })
    }

    fn v201(&self, _: i32) -> Result<Self::V201, Error> {
        check_count(self.items.len(), false)?;
        let get_variable_data = self
            .items
            .iter()
            .map(|a| {
                let (component, variable) = a.v201()?;
                Ok(GetVariableDataType {
                    attribute_type: Some(a.attribute().v201()),
                    component,
                    variable,
                })
            })
            .collect::<Result<_, Error>>()?;
        Ok(g201::GetVariablesRequest { get_variable_data })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    fn setting(value: serde_json::Value) -> VariableSetting {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn full_addresses_in_2_0_1_keys_in_1_6() {
        let b = SetVariablesBody {
            items: vec![setting(
                json!({"component": "OCPPCommCtrlr", "variable": "MessageAttempts",
                "variable_instance": "TransactionEvent", "value": "5"}),
            )],
        };
        assert_eq!(
            sent(&b, V201),
            json!({"setVariableData": [{"attributeType": "Actual", "attributeValue": "5",
                "component": {"name": "OCPPCommCtrlr"},
                "variable": {"name": "MessageAttempts", "instance": "TransactionEvent"}}]})
        );
        assert!(prepare(&b, V16, 0).is_err(), "1.6 keys have no instances");
        let evse = SetVariablesBody {
            items: vec![setting(json!({"component": "EVSE", "evse_id": 1, "connector_id": 2,
                "variable": "Power", "attribute": "MaxSet", "value": "11000"}))],
        };
        assert_eq!(
            sent(&evse, V201)["setVariableData"][0]["component"],
            json!({"name": "EVSE", "evse": {"id": 1, "connectorId": 2}})
        );
        let key = SetVariablesBody {
            items: vec![setting(
                json!({"component": "", "variable": "HeartbeatInterval", "value": "60"}),
            )],
        };
        assert_eq!(sent(&key, V16), json!({"key": "HeartbeatInterval", "value": "60"}));
        let two = SetVariablesBody {
            items: vec![key.items[0].clone(), key.items[0].clone()],
        };
        assert!(prepare(&two, V16, 0).is_err());
        assert!(prepare(&SetVariablesBody { items: vec![] }, V201, 0).is_err());
        let get = GetVariablesBody {
            items: vec![key.items[0].address()],
        };
        assert_eq!(sent(&get, V16), json!({"key": ["HeartbeatInterval"]}));
    }
}
