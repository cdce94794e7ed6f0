//! What no real charger can report. Handlers pass every number and time a charger sends
//! through here before anything is stored: a value outside these bounds answers
//! `PropertyConstraintViolation` for that message alone (nothing of it is stored), so one
//! charger's bad value can never reach a batched write that other chargers share. A clock
//! too far from ours is not refused (both specs want transaction messages accepted): the
//! receive time is stored instead and the row is flagged.

use chrono::{DateTime, Duration, Utc};

use super::StationError;

/// An energy register above this (1 TWh) is no charger's: a 350 kW charger running
/// day and night for 30 years reaches 92 GWh.
pub(crate) const MAX_REGISTER_WH: f64 = 1e12;
/// Any other sampled value (W, A, V, %, ...) beyond ±this is not a measurement.
pub(crate) const MAX_SAMPLE: f64 = 1e12;
/// EVSE and connector ids above this are refused; the specs set no bound, real chargers
/// number a handful.
pub(crate) const MAX_ID: i64 = 1000;

/// A refusal of one field of the message.
pub(crate) fn violation(field: impl Into<String>, reason: impl Into<String>) -> StationError {
    StationError::Constraint {
        field: field.into(),
        reason: reason.into(),
    }
}

/// An EVSE or connector id, `min..=MAX_ID` (the specs use 0 for "the whole charger" where
/// that is allowed).
pub(crate) fn id(field: &str, value: impl Into<i64>, min: i64) -> Result<i32, StationError> {
    let value = value.into();
    if !(min..=MAX_ID).contains(&value) {
        return Err(violation(field, format!("must be between {min} and {MAX_ID}")));
    }
    // In range of i32 by the bound above.
    Ok(value as i32)
}

/// A string the schema limits to `max` characters (rust-ocpp checks no lengths).
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<(), StationError> {
    if value.chars().count() > max {
        return Err(violation(field, format!("longer than {max} characters")));
    }
    Ok(())
}

/// An energy register reading in Wh: finite, not negative, at most [`MAX_REGISTER_WH`].
pub(crate) fn register_wh(field: &str, wh: f64) -> Result<i64, StationError> {
    if !wh.is_finite() || !(0.0..=MAX_REGISTER_WH).contains(&wh) {
        return Err(violation(field, "energy must be a finite reading between 0 and 1 TWh"));
    }
    Ok(wh.round() as i64)
}

/// A sampled value: finite and within [`MAX_SAMPLE`]; energy registers also not negative.
pub(crate) fn sample(field: &str, measurand: &str, value: f64) -> Result<f64, StationError> {
    if !value.is_finite() || value.abs() > MAX_SAMPLE {
        return Err(violation(field, "must be a finite number within ±1e12"));
    }
    if measurand.starts_with("Energy.") && measurand.ends_with(".Register") && value < 0.0 {
        return Err(violation(field, "an energy register cannot be negative"));
    }
    Ok(value)
}

/// Our view of a charger's clock: times further than `skew` from the receive time are
/// replaced by it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    now: DateTime<Utc>,
    skew: Duration,
}

impl Clock {
    /// The clock for a message received now.
    pub(crate) fn now(max_skew_s: u64) -> Self {
        Self {
            now: Utc::now(),
            // Capped at a century, far inside chrono's range.
            skew: Duration::seconds(max_skew_s.min(100 * 365 * 86_400) as i64),
        }
    }

    /// The receive time.
    #[cfg(test)]
    pub(crate) fn received(&self) -> DateTime<Utc> {
        self.now
    }

    /// The charger's time if it is plausible, else the receive time; `true` when replaced.
    pub(crate) fn at(&self, charger_time: DateTime<Utc>) -> (DateTime<Utc>, bool) {
        let off = charger_time.signed_duration_since(self.now).abs();
        if off > self.skew {
            (self.now, true)
        } else {
            (charger_time, false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_bounds() {
        assert_eq!(register_wh("x", 1234.4).unwrap(), 1234);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 1e13] {
            assert!(register_wh("x", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn samples_may_be_negative_unless_a_register() {
        assert!(sample("x", "Power.Active.Import", -5.0).is_ok());
        assert!(sample("x", "Energy.Active.Import.Register", -5.0).is_err());
        assert!(sample("x", "Voltage", f64::NAN).is_err());
    }

    #[test]
    fn ids() {
        assert_eq!(id("x", 0u32, 0).unwrap(), 0);
        assert!(id("x", 0u32, 1).is_err());
        assert!(id("x", -1, 0).is_err());
        assert!(id("x", 2_147_483_648i64, 0).is_err());
    }

    #[test]
    fn clock_replaces_far_times() {
        let clock = Clock::now(3600);
        let year_one = DateTime::<Utc>::MIN_UTC;
        assert_eq!(clock.at(year_one), (clock.received(), true));
        let close = clock.received() - Duration::seconds(10);
        assert_eq!(clock.at(close), (close, false));
    }
}
