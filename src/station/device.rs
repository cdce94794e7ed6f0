//! How 2.0.1 addresses a part of a station (component, variable, EVSE, connector) in the
//! words the timeline and faults store.

use rust_ocpp::v2_0_1::datatypes::{component_type::ComponentType, variable_type::VariableType};

use super::{StationError, bounds};
use crate::store::FaultPlace;

/// `name` or `name[instance]`.
fn named(name: &str, instance: Option<&str>) -> String {
    match instance {
        Some(instance) => format!("{name}[{instance}]"),
        None => name.to_owned(),
    }
}

/// A component as the timeline names it.
pub(super) fn component(c: &ComponentType) -> String {
    named(&c.name, c.instance.as_deref())
}

/// A variable as the timeline names it.
pub(super) fn variable(v: &VariableType) -> String {
    named(&v.name, v.instance.as_deref())
}

/// Where a component is: its EVSE and connector, 0 for the station or the whole EVSE. The key
/// is left for the caller.
pub(super) fn place(c: &ComponentType, field: &str) -> Result<FaultPlace, StationError> {
    bounds::text(&format!("{field}.name"), &c.name, 50)?;
    if let Some(instance) = &c.instance {
        bounds::text(&format!("{field}.instance"), instance, 50)?;
    }
    let (evse_id, connector_id) = match &c.evse {
        Some(evse) => (
            bounds::id(&format!("{field}.evse.id"), evse.id, 0)?,
            bounds::id(&format!("{field}.evse.connectorId"), evse.connector_id.unwrap_or(0), 0)?,
        ),
        None => (0, 0),
    };
    Ok(FaultPlace {
        evse_id,
        connector_id,
        key: String::new(),
    })
}
