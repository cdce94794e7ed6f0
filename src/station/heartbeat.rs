//! Heartbeat (OCPP 1.6 §4.6, 2.0.1 G02): answer the current time; `last_seen_at` writes are
//! coalesced to one per heartbeat interval.

use rust_ocpp::v1_6::messages::heart_beat as m16;
use rust_ocpp::v2_0_1::messages::heartbeat as m201;

use super::{Session, Station, StationError};

pub(super) async fn v16(
    station: &Station,
    session: &mut Session,
    _: m16::HeartbeatRequest,
) -> Result<m16::HeartbeatResponse, StationError> {
    station.seen(session).await?;
    Ok(m16::HeartbeatResponse {
        current_time: crate::ocpp::now(),
    })
}

pub(super) async fn v201(
    station: &Station,
    session: &mut Session,
    _: m201::HeartbeatRequest,
) -> Result<m201::HeartbeatResponse, StationError> {
    station.seen(session).await?;
    Ok(m201::HeartbeatResponse {
        current_time: crate::ocpp::now(),
    })
}
