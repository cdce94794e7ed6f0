//! Times voltgate sends. rust-ocpp serialises a 1.6 time with every digit chrono keeps
//! (nanoseconds), which much charger firmware cannot parse; 2.0.1 types already send
//! milliseconds. Every time voltgate puts in a message passes through here.

use chrono::{DateTime, SubsecRound, Utc};

/// `t` to the millisecond.
pub fn millis(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(3)
}

/// Now, to the millisecond.
pub fn now() -> DateTime<Utc> {
    millis(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_at_most_three_fraction_digits() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T21:35:20.348651798Z")
            .unwrap()
            .to_utc();
        assert_eq!(serde_json::to_value(millis(t)).unwrap(), "2026-12-01T21:35:20.348Z");
    }
}
