//! Asking a charger what it is made of: 2.0.1 GetBaseReport (a whole inventory) or GetReport
//! (some components and variables), answered by NotifyReport parts that the station stores as
//! the device model; 1.6 GetConfiguration, whose answer is the inventory itself.

use rust_ocpp::v1_6::messages::get_configuration as g16;
use rust_ocpp::v2_0_1::datatypes::component_variable_type::ComponentVariableType;
use rust_ocpp::v2_0_1::enumerations::report_base_enum_type::ReportBaseEnumType;
use rust_ocpp::v2_0_1::messages::{get_base_report as base201, get_report as report201};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::Error;
use super::message::{Message, component_part, invalid, variable_part};

/// `POST /chargers/{id}/report`: a whole inventory, or only the components and variables named.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// Which inventory (default `full`); ignored when `components` or `variables` are given.
    pub kind: Option<ReportKind>,
    /// 2.0.1 components, `Component[instance]@evse/connector`.
    #[schema(max_items = 50)]
    pub components: Option<Vec<String>>,
    /// Variables, `Variable[instance]` (2.0.1: of every component named; 1.6: the keys).
    #[schema(max_items = 50)]
    pub variables: Option<Vec<String>>,
}

/// 2.0.1's base reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportKind {
    /// Every component and variable with every attribute and characteristic.
    #[default]
    Full,
    /// The configurable variables.
    Configuration,
    /// Components' availability and problems only.
    Summary,
}

impl ReportBody {
    /// Whether it names components or variables (GetReport), else a base report.
    pub fn is_selective(&self) -> bool {
        self.components.as_ref().is_some_and(|c| !c.is_empty())
            || self.variables.as_ref().is_some_and(|v| !v.is_empty())
    }
}

/// The 1.6 request of either kind: every key, or the variables named.
fn v16(body: &ReportBody) -> Result<g16::GetConfigurationRequest, Error> {
    if body.components.as_ref().is_some_and(|c| !c.is_empty()) {
        return Err(invalid("components", "OCPP 1.6 chargers have no components"));
    }
    Ok(g16::GetConfigurationRequest {
        key: body.variables.clone().filter(|v| !v.is_empty()),
    })
}

/// A base report (GetBaseReport).
#[derive(Debug, Clone, Serialize)]
pub struct BaseReport(pub ReportBody);

impl Message for BaseReport {
    type V16 = g16::GetConfigurationRequest;
    type V201 = base201::GetBaseReportRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        v16(&self.0)
    }

    fn v201(&self, request_id: i32) -> Result<Self::V201, Error> {
        Ok(base201::GetBaseReportRequest {
            request_id,
            report_base: match self.0.kind.unwrap_or_default() {
                ReportKind::Full => ReportBaseEnumType::FullInventory,
                ReportKind::Configuration => ReportBaseEnumType::ConfigurationInventory,
                ReportKind::Summary => ReportBaseEnumType::SummaryInventory,
            },
        })
    }
}

/// A report of the components and variables named (GetReport).
#[derive(Debug, Clone, Serialize)]
pub struct SelectiveReport(pub ReportBody);

impl Message for SelectiveReport {
    type V16 = g16::GetConfigurationRequest;
    type V201 = report201::GetReportRequest;

    fn v16(&self, _: i32) -> Result<Self::V16, Error> {
        v16(&self.0)
    }

    fn v201(&self, request_id: i32) -> Result<Self::V201, Error> {
        let not_a_name = |field: &str, text: &str| invalid(field, format!("{text:?} is not a {field} name"));
        let variables = self
            .0
            .variables
            .iter()
            .flatten()
            .map(|v| variable_part(v).ok_or_else(|| not_a_name("variables", v)))
            .collect::<Result<Vec<_>, Error>>()?;
        let mut criteria = Vec::new();
        for c in self.0.components.iter().flatten() {
            let component = component_part(c).ok_or_else(|| not_a_name("components", c))?;
            if variables.is_empty() {
                criteria.push(ComponentVariableType {
                    component,
                    variable: None,
                });
                continue;
            }
            criteria.extend(variables.iter().map(|v| ComponentVariableType {
                component: component.clone(),
                variable: Some(v.clone()),
            }));
        }
        if criteria.is_empty() {
            return Err(invalid(
                "components",
                "OCPP 2.0.1 reports name the variables' components",
            ));
        }
        Ok(report201::GetReportRequest {
            request_id,
            component_criteria: None,
            component_variable: Some(criteria),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::message::tests::*;

    #[test]
    fn base_reports_selective_reports_and_1_6_inventories() {
        let full = BaseReport(ReportBody::default());
        assert_eq!(
            sent(&full, V201),
            json!({"requestId": 7, "reportBase": "FullInventory"})
        );
        assert_eq!(sent(&full, V16), json!({}));
        let config = BaseReport(ReportBody {
            kind: Some(ReportKind::Configuration),
            ..Default::default()
        });
        assert_eq!(sent(&config, V201)["reportBase"], "ConfigurationInventory");
        let some = SelectiveReport(ReportBody {
            components: Some(vec!["EVSE@1".into()]),
            variables: Some(vec!["AvailabilityState".into(), "Power[max]".into()]),
            ..Default::default()
        });
        assert_eq!(
            sent(&some, V201)["componentVariable"],
            json!([
                {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "AvailabilityState"}},
                {"component": {"name": "EVSE", "evse": {"id": 1}}, "variable": {"name": "Power", "instance": "max"}},
            ])
        );
        assert!(prepare(&some, V16, 0).is_err());
        let keys = SelectiveReport(ReportBody {
            variables: Some(vec!["HeartbeatInterval".into()]),
            ..Default::default()
        });
        assert_eq!(sent(&keys, V16), json!({"key": ["HeartbeatInterval"]}));
        assert!(prepare(&keys, V201, 0).is_err());
    }
}
