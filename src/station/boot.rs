//! BootNotification (OCPP 1.6 §4.2, 2.0.1 B01/B02): store what the charger says it is and
//! answer Accepted with the heartbeat interval, or Pending while it is not assigned to an
//! organisation.

use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::Utc;
use rust_ocpp::v1_6::messages::boot_notification as m16;
use rust_ocpp::v1_6::types::RegistrationStatus;
use rust_ocpp::v2_0_1::enumerations::registration_status_enum_type::RegistrationStatusEnumType;
use rust_ocpp::v2_0_1::messages::boot_notification as m201;

use super::{Session, Station, StationError};
use crate::store::BootInfo;
use entity::values::RegistrationStatus as Registration;

/// The version-neutral answer.
struct Decision {
    accepted: bool,
    interval_s: u32,
}

impl Station {
    async fn boot(&self, session: &mut Session, info: BootInfo) -> Result<Decision, StationError> {
        // Overload: the database takes longer to commit a boot than chargers should wait.
        // Pending with a spread-out interval asks the charger to come back later (OCPP 1.6
        // §4.2, 2.0.1 B02) instead of letting answers time out or dropping sockets.
        let recent_us = self.boot_commit_us.load(Ordering::Relaxed);
        if recent_us > self.boot_overload_us {
            let spread = session
                .charger_id
                .bytes()
                .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
            let interval_s = 30 + spread % 60;
            session.boot_accepted = Some(false);
            // Decay, so a quiet moment lets boots through again even with no new measurement.
            self.boot_commit_us.store(recent_us * 15 / 16, Ordering::Relaxed);
            tracing::debug!(charger = %session.charger_id, recent_us, interval_s, "boot deferred: overloaded");
            return Ok(Decision {
                accepted: false,
                interval_s,
            });
        }
        let started = Instant::now();
        let now = Utc::now();
        // The assignment is read as the boot is written, not at connect: an operator may
        // have assigned the charger while it was waiting in Pending.
        let assigned = self.store.record_boot(&session.charger_id, &info, now).await?;
        let status = if assigned {
            Registration::Accepted
        } else {
            Registration::Pending
        };
        self.live.changed(&session.charger_id);
        let took_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        // A smoothed commit time: 1/8 of each new measurement.
        let smoothed = (self.boot_commit_us.load(Ordering::Relaxed) * 7 + took_us) / 8;
        self.boot_commit_us.store(smoothed.max(1), Ordering::Relaxed);
        session.last_seen_written = Some(Instant::now());
        session.boot_accepted = Some(assigned);
        tracing::info!(charger = %session.charger_id, vendor = %info.vendor, model = %info.model, %status, "boot");
        Ok(Decision {
            accepted: assigned,
            interval_s: self.heartbeat_interval_s,
        })
    }
}

// Not `async fn`: the request is taken apart before the future is made, so the future does
// not keep it (an async fn holds its arguments for its whole life) while the boot waits on
// its commit.
pub(super) fn v16<'a>(
    station: &'a Station,
    session: &'a mut Session,
    req: m16::BootNotificationRequest,
) -> impl Future<Output = Result<m16::BootNotificationResponse, StationError>> + Send + 'a {
    let info = BootInfo {
        ocpp_version: session.version.as_str().into(),
        vendor: req.charge_point_vendor,
        model: req.charge_point_model,
        serial: req.charge_point_serial_number.or(req.charge_box_serial_number),
        firmware_version: req.firmware_version,
    };
    async move {
        let decision = station.boot(session, info).await?;
        Ok(m16::BootNotificationResponse {
            current_time: crate::ocpp::now(),
            interval: decision.interval_s,
            status: if decision.accepted {
                RegistrationStatus::Accepted
            } else {
                RegistrationStatus::Pending
            },
        })
    }
}

pub(super) fn v201<'a>(
    station: &'a Station,
    session: &'a mut Session,
    req: m201::BootNotificationRequest,
) -> impl Future<Output = Result<m201::BootNotificationResponse, StationError>> + Send + 'a {
    let cs = req.charging_station;
    let info = BootInfo {
        ocpp_version: session.version.as_str().into(),
        vendor: cs.vendor_name,
        model: cs.model,
        serial: cs.serial_number,
        firmware_version: cs.firmware_version,
    };
    async move {
        let decision = station.boot(session, info).await?;
        Ok(m201::BootNotificationResponse {
            current_time: crate::ocpp::now(),
            // 2.0.1 types the interval as a 16-bit integer.
            interval: u16::try_from(decision.interval_s).unwrap_or(u16::MAX),
            status: if decision.accepted {
                RegistrationStatusEnumType::Accepted
            } else {
                RegistrationStatusEnumType::Pending
            },
            status_info: None,
        })
    }
}
