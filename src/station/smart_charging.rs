//! What a 2.0.1 station says about charging limits and schedules (K11-K17, K09/K10): limits
//! set by others (NotifyChargingLimit, ClearedChargingLimit), the EV's needs and schedule
//! (NotifyEVChargingNeeds, NotifyEVChargingSchedule) and the profiles it holds
//! (ReportChargingProfiles). voltgate does no smart charging yet: it keeps each message on the
//! timeline, tells the station it will not send a schedule for the EV's needs (`Rejected`),
//! and accepts the EV's own schedule, since it sets no limit that schedule could break.

use chrono::Utc;
use entity::values::EventKind;
use rust_ocpp::v2_0_1::enumerations::generic_status_enum_type::GenericStatusEnumType;
use rust_ocpp::v2_0_1::enumerations::notify_ev_charging_needs_status_enum_type::NotifyEVChargingNeedsStatusEnumType;
use rust_ocpp::v2_0_1::messages::{
    cleared_charging_limit as cleared, notify_charging_limit as limit, notify_ev_charging_needs as needs,
    notify_ev_charging_schedule as schedule, report_charging_profiles as profiles,
};

use super::{Session, Station, StationError, bounds, detail};
use crate::ocpp::enum_name;
use crate::store::NewEvent;

impl Station {
    async fn charging_event(
        &self,
        session: &mut Session,
        gist: String,
        evse_id: Option<i32>,
        payload: &impl serde::Serialize,
    ) -> Result<(), StationError> {
        let evse_id = evse_id.map(|id| bounds::id("evseId", id, 0)).transpose()?;
        let event = NewEvent {
            evse_id,
            detail: detail(payload),
            ..NewEvent::new(EventKind::Charging, gist, Utc::now())
        };
        self.record(session, vec![event], vec![]).await
    }
}

pub(super) async fn limit_v201(
    station: &Station,
    session: &mut Session,
    req: limit::NotifyChargingLimitRequest,
) -> Result<limit::NotifyChargingLimitResponse, StationError> {
    let gist = format!("Limit set by {}", enum_name(&req.charging_limit.charging_limit_source));
    station.charging_event(session, gist, req.evse_id, &req).await?;
    Ok(limit::NotifyChargingLimitResponse {})
}

pub(super) async fn cleared_v201(
    station: &Station,
    session: &mut Session,
    req: cleared::ClearedChargingLimitRequest,
) -> Result<cleared::ClearedChargingLimitResponse, StationError> {
    let gist = format!("Limit cleared by {}", enum_name(&req.charging_limit_source));
    station.charging_event(session, gist, req.evse_id, &req).await?;
    Ok(cleared::ClearedChargingLimitResponse {})
}

pub(super) async fn needs_v201(
    station: &Station,
    session: &mut Session,
    req: needs::NotifyEVChargingNeedsRequest,
) -> Result<needs::NotifyEVChargingNeedsResponse, StationError> {
    let gist = format!("EV needs {}", enum_name(&req.charging_needs.requested_energy_transfer));
    station.charging_event(session, gist, Some(req.evse_id), &req).await?;
    Ok(needs::NotifyEVChargingNeedsResponse {
        status: NotifyEVChargingNeedsStatusEnumType::Rejected,
        status_info: None,
    })
}

pub(super) async fn schedule_v201(
    station: &Station,
    session: &mut Session,
    req: schedule::NotifyEVChargingScheduleRequest,
) -> Result<schedule::NotifyEVChargingScheduleResponse, StationError> {
    station
        .charging_event(session, "EV schedule".into(), Some(req.evse_id), &req)
        .await?;
    Ok(schedule::NotifyEVChargingScheduleResponse {
        status: GenericStatusEnumType::Accepted,
        status_info: None,
    })
}

pub(super) async fn profiles_v201(
    station: &Station,
    session: &mut Session,
    req: profiles::ReportChargingProfilesRequest,
) -> Result<profiles::ReportChargingProfilesResponse, StationError> {
    let gist = format!("{} charging profile(s) reported", req.charging_profile.len());
    station.charging_event(session, gist, Some(req.evse_id), &req).await?;
    Ok(profiles::ReportChargingProfilesResponse {})
}
