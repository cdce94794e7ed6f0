//! The reports a 2.0.1 station sends in parts after the CSMS asked (NotifyReport B07/B08,
//! NotifyMonitoringReport N02, NotifyCustomerInformation N09/N10, NotifyDisplayMessages O04)
//! and ReservationStatusUpdate (H05). Each part goes on the timeline with its request id;
//! NotifyReport's entries also become the charger's stored device model (`/variables`).

use chrono::Utc;
use entity::values::EventKind;
use rust_ocpp::v2_0_1::messages::{
    notify_customer_information as customer, notify_display_messages as display, notify_monitoring_report as monitors,
    notify_report as report, reservation_status_update as reservation,
};
use serde_json::json;

use rust_decimal::prelude::ToPrimitive;
use rust_ocpp::v2_0_1::datatypes::report_data_type::ReportDataType;

use super::{Session, Station, StationError, bounds, detail, device};
use crate::ocpp::enum_name;
use crate::store::{NewEvent, ReportedVariable};

impl Station {
    async fn report_part(
        &self,
        session: &mut Session,
        kind: EventKind,
        gist: String,
        request_id: Option<i32>,
        detail: Option<serde_json::Value>,
    ) -> Result<(), StationError> {
        let event = NewEvent {
            request_id,
            detail,
            ..NewEvent::new(kind, gist, Utc::now())
        };
        self.record(session, vec![event], vec![]).await
    }
}

/// `NotifyReport part 2 (last)`.
fn part(action: &str, seq_no: i32, tbc: Option<bool>) -> String {
    let last = if tbc == Some(true) { "" } else { " (last)" };
    format!("{action} part {seq_no}{last}")
}

/// The device model a report part describes, one row per attribute.
fn reported(data: &[ReportDataType]) -> Result<Vec<ReportedVariable>, StationError> {
    let mut rows = Vec::new();
    for (i, d) in data.iter().enumerate() {
        let field = format!("reportData[{i}].component");
        let place = device::place(&d.component, &field)?;
        bounds::text(&format!("reportData[{i}].variable.name"), &d.variable.name, 50)?;
        let c = d.variable_characteristics.as_ref();
        for (j, a) in d.variable_attribute.iter().enumerate() {
            if let Some(value) = &a.value {
                bounds::text(&format!("reportData[{i}].variableAttribute[{j}].value"), value, 2500)?;
            }
            rows.push(ReportedVariable {
                component: d.component.name.clone(),
                component_instance: d.component.instance.clone(),
                evse_id: d.component.evse.as_ref().map(|_| place.evse_id),
                connector_id: d.component.evse.as_ref().map(|_| place.connector_id),
                variable: d.variable.name.clone(),
                variable_instance: d.variable.instance.clone(),
                attribute: a.kind.as_ref().map_or_else(|| "Actual".into(), enum_name),
                value: a.value.clone(),
                mutability: a.mutability.as_ref().map(enum_name),
                persistent: a.persistent,
                constant: a.constant,
                unit: c.and_then(|c| c.unit.clone()),
                data_type: c.map(|c| enum_name(&c.data_type)),
                min_limit: c.and_then(|c| c.min_limit).and_then(|d| d.to_f64()),
                max_limit: c.and_then(|c| c.max_limit).and_then(|d| d.to_f64()),
                values_list: c.and_then(|c| c.values_list.clone()),
                supports_monitoring: c.map(|c| c.supports_monitoring),
            });
        }
    }
    Ok(rows)
}

pub(super) async fn report_v201(
    station: &Station,
    session: &mut Session,
    req: report::NotifyReportRequest,
) -> Result<report::NotifyReportResponse, StationError> {
    let rows = reported(req.report_data.as_deref().unwrap_or_default())?;
    station
        .store
        .record_variables(&session.charger_id, Some(req.request_id), rows)
        .await?;
    let entries = req.report_data.as_ref().map_or(0, Vec::len);
    let detail = json!({ "seqNo": req.seq_no, "tbc": req.tbc, "entries": entries, "generatedAt": req.generated_at });
    let gist = part("NotifyReport", req.seq_no, req.tbc);
    station
        .report_part(session, EventKind::Report, gist, Some(req.request_id), Some(detail))
        .await?;
    Ok(report::NotifyReportResponse {})
}

pub(super) async fn monitoring_v201(
    station: &Station,
    session: &mut Session,
    req: monitors::NotifyMonitoringReportRequest,
) -> Result<monitors::NotifyMonitoringReportResponse, StationError> {
    let gist = part("NotifyMonitoringReport", req.seq_no, req.tbc);
    station
        .report_part(session, EventKind::Report, gist, Some(req.request_id), detail(&req))
        .await?;
    Ok(monitors::NotifyMonitoringReportResponse {})
}

pub(super) async fn customer_v201(
    station: &Station,
    session: &mut Session,
    req: customer::NotifyCustomerInformationRequest,
) -> Result<customer::NotifyCustomerInformationResponse, StationError> {
    super::bounds::text("data", &req.data, 512)?;
    let gist = part("NotifyCustomerInformation", req.seq_no, req.tbc);
    station
        .report_part(session, EventKind::Report, gist, Some(req.request_id), detail(&req))
        .await?;
    Ok(customer::NotifyCustomerInformationResponse {})
}

pub(super) async fn display_v201(
    station: &Station,
    session: &mut Session,
    req: display::NotifyDisplayMessagesRequest,
) -> Result<display::NotifyDisplayMessagesResponse, StationError> {
    let count = req.message_info.as_ref().map_or(0, Vec::len);
    let gist = format!("{count} display message(s)");
    station
        .report_part(session, EventKind::Report, gist, Some(req.request_id), detail(&req))
        .await?;
    Ok(display::NotifyDisplayMessagesResponse {})
}

pub(super) async fn reservation_v201(
    station: &Station,
    session: &mut Session,
    req: reservation::ReservationStatusUpdateRequest,
) -> Result<reservation::ReservationStatusUpdateResponse, StationError> {
    let gist = format!("Reservation {}", enum_name(&req.reservation_update_status));
    station
        .report_part(session, EventKind::Reservation, gist, None, detail(&req))
        .await?;
    Ok(reservation::ReservationStatusUpdateResponse {})
}
