//! NotifyEvent (2.0.1 N07): what a station's monitors and hard-wired notifications report. A
//! 2.0.1 StatusNotification has no error code, so this is where a 2.0.1 station's faults
//! arrive; each event lands on the timeline and may open or clear a fault:
//!
//! - `cleared: true` clears the fault of that component and variable;
//! - the standard `Problem` variable opens on `true` and clears on `false`;
//! - `AvailabilityState` opens on `Faulted` and clears on any other state;
//! - any other `Alerting` event (a monitor crossed its threshold) opens one.
//!
//! Delta and periodic reports of other variables are only recorded.

use rust_ocpp::v2_0_1::datatypes::event_data_type::EventDataType;
use rust_ocpp::v2_0_1::enumerations::event_trigger_enum_type::EventTriggerEnumType;
use rust_ocpp::v2_0_1::messages::notify_event as m201;
use serde_json::json;

use super::{Session, Station, StationError, bounds, device};
use crate::ocpp::enum_name;
use crate::store::{FaultChange, FaultPlace, NewEvent};
use entity::values::EventKind;

/// Whether an event reports a problem (`Some(true)`), its end (`Some(false)`) or neither.
fn problem(e: &EventDataType) -> Option<bool> {
    if e.cleared == Some(true) {
        return Some(false);
    }
    match e.variable.name.as_str() {
        "Problem" => Some(e.actual_value.eq_ignore_ascii_case("true")),
        "AvailabilityState" => Some(e.actual_value == "Faulted"),
        _ if e.trigger == EventTriggerEnumType::Alerting => Some(true),
        _ => None,
    }
}

pub(super) async fn v201(
    station: &Station,
    session: &mut Session,
    req: m201::NotifyEventRequest,
) -> Result<m201::NotifyEventResponse, StationError> {
    let clock = station.clock();
    let mut events = Vec::with_capacity(req.event_data.len());
    let mut faults = Vec::new();
    for (i, e) in req.event_data.into_iter().enumerate() {
        let field = |name: &str| format!("eventData[{i}].{name}");
        bounds::text(&field("actualValue"), &e.actual_value, 2500)?;
        let place = device::place(&e.component, &field("component"))?;
        let (component, variable) = (device::component(&e.component), device::variable(&e.variable));
        let key = format!("{component}/{variable}");
        match problem(&e) {
            Some(true) => faults.push(FaultChange::Open {
                place: FaultPlace { key, ..place },
                code: e.tech_code.clone().unwrap_or_else(|| e.variable.name.clone()),
                info: e.tech_info.clone().or_else(|| Some(e.actual_value.clone())),
                event: events.len(),
            }),
            Some(false) => faults.push(FaultChange::Clear {
                place: FaultPlace { key, ..place },
                event: None,
            }),
            None => {}
        }
        events.push(NewEvent {
            evse_id: e.component.evse.as_ref().map(|_| place.evse_id),
            connector_id: e.component.evse.as_ref().map(|_| place.connector_id),
            component: Some(component),
            variable: Some(variable),
            detail: super::detail(&json!({
                "eventId": e.event_id,
                "actualValue": e.actual_value,
                "techCode": e.tech_code,
                "techInfo": e.tech_info,
                "cleared": e.cleared,
                "cause": e.cause,
                "transactionId": e.transaction_id,
                "variableMonitoringId": e.variable_monitoring_id,
                "eventNotificationType": enum_name(&e.event_notification_type),
            })),
            ..NewEvent::new(EventKind::Event, enum_name(&e.trigger), clock.at(e.timestamp).0)
        });
    }
    station.record(session, events, faults).await?;
    Ok(m201::NotifyEventResponse {})
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_ocpp::v2_0_1::datatypes::{component_type::ComponentType, variable_type::VariableType};

    fn event(variable: &str, value: &str, trigger: EventTriggerEnumType, cleared: Option<bool>) -> EventDataType {
        EventDataType {
            trigger,
            actual_value: value.into(),
            cleared,
            component: ComponentType {
                name: "EVSE".into(),
                ..Default::default()
            },
            variable: VariableType {
                name: variable.into(),
                instance: None,
            },
            ..Default::default()
        }
    }

    #[test]
    fn classifies_problems_and_their_end() {
        use EventTriggerEnumType::*;
        assert_eq!(problem(&event("Problem", "true", Delta, None)), Some(true));
        assert_eq!(problem(&event("Problem", "false", Delta, None)), Some(false));
        assert_eq!(problem(&event("AvailabilityState", "Faulted", Delta, None)), Some(true));
        assert_eq!(
            problem(&event("AvailabilityState", "Available", Delta, None)),
            Some(false)
        );
        assert_eq!(problem(&event("Temperature", "91", Alerting, None)), Some(true));
        assert_eq!(problem(&event("Temperature", "40", Alerting, Some(true))), Some(false));
        assert_eq!(problem(&event("Temperature", "40", Periodic, None)), None);
    }
}
