//! What chargers do every day: Authorize (1.6 §4.1, 2.0.1 C01), transactions (1.6
//! Start/StopTransaction §4.8/§4.10, 2.0.1 TransactionEvent E01-E15), MeterValues (1.6 §4.7,
//! 2.0.1 J01). Both versions write the same `transaction` and `meter_value` rows, and every
//! message is idempotent: a resend after a reconnect stores nothing twice and gets the same
//! answer.

use chrono::{DateTime, Utc};
use entity::id_token;
use rust_decimal::prelude::ToPrimitive;
use rust_ocpp::v1_6::messages::{
    authorize as auth16, meter_values as mv16, start_transaction as start16, stop_transaction as stop16,
};
use rust_ocpp::v1_6::types::{AuthorizationStatus, IdTagInfo, MeterValue as MeterValue16, ValueFormat};
use rust_ocpp::v2_0_1::datatypes::id_token_info_type::IdTokenInfoType;
use rust_ocpp::v2_0_1::datatypes::id_token_type::IdTokenType;
use rust_ocpp::v2_0_1::datatypes::meter_value_type::MeterValueType;
use rust_ocpp::v2_0_1::enumerations::authorization_status_enum_type::AuthorizationStatusEnumType as Status201;
use rust_ocpp::v2_0_1::enumerations::id_token_enum_type::IdTokenEnumType;
use rust_ocpp::v2_0_1::enumerations::transaction_event_enum_type::TransactionEventEnumType;
use rust_ocpp::v2_0_1::messages::{authorize as auth201, meter_values as mv201, transaction_event as tx201};

use super::bounds::{self, Clock};
use super::{Session, Station, StationError, TransactionKey};
use crate::ocpp::enum_name;
use crate::store::{NewMeterValue, REFUSED_AT_START, TransactionStart, TransactionUpdate};

/// Whether a token may charge here, in version-neutral terms (and as transactions keep it).
pub(crate) use entity::values::TokenDecision as Decision;

/// A token check's outcome, with what chargers may cache.
#[derive(Debug, Clone)]
pub(crate) struct TokenCheck {
    pub decision: Decision,
    pub token: Option<id_token::Model>,
}

impl TokenCheck {
    /// A group token chargers can use as `parentIdTag` / `groupIdToken`.
    fn group_tag(&self) -> Option<String> {
        self.token
            .as_ref()
            .and_then(|t| t.group_id)
            .map(crate::store::group_token)
    }

    fn expiry(&self) -> Option<DateTime<Utc>> {
        self.token.as_ref().and_then(|t| t.expires_at).map(crate::ocpp::millis)
    }

    fn v16(&self) -> IdTagInfo {
        IdTagInfo {
            expiry_date: self.expiry(),
            parent_id_tag: self.group_tag(),
            status: match self.decision {
                Decision::Accepted => AuthorizationStatus::Accepted,
                Decision::Blocked => AuthorizationStatus::Blocked,
                Decision::Expired => AuthorizationStatus::Expired,
                // 1.6 has no "not here": Invalid is its nearest answer.
                Decision::Invalid | Decision::NotAtThisLocation => AuthorizationStatus::Invalid,
            },
        }
    }

    fn v201(&self) -> IdTokenInfoType {
        IdTokenInfoType {
            status: match self.decision {
                Decision::Accepted => Status201::Accepted,
                Decision::Blocked => Status201::Blocked,
                Decision::Expired => Status201::Expired,
                Decision::Invalid => Status201::Invalid,
                Decision::NotAtThisLocation => Status201::NotAtThisLocation,
            },
            cache_expiry_date_time: self.expiry(),
            group_id_token: self.group_tag().map(|g| IdTokenType {
                id_token: g,
                kind: IdTokenEnumType::Central,
                additional_info: None,
            }),
            ..Default::default()
        }
    }
}

/// One sampled value, from either version, checked against [`bounds`].
struct Sample {
    at: DateTime<Utc>,
    measurand: String,
    value: f64,
    unit: Option<String>,
    phase: Option<String>,
    context: Option<String>,
}

const ENERGY: &str = "Energy.Active.Import.Register";

/// The samples of 1.6 meter values under `path` (the request field, for the CALLERROR).
fn samples_v16(values: &[MeterValue16], clock: &Clock, path: &str) -> Result<Vec<Sample>, StationError> {
    let mut out = Vec::new();
    for (i, mv) in values.iter().enumerate() {
        let (at, _) = clock.at(mv.timestamp);
        for (j, s) in mv.sampled_value.iter().enumerate() {
            // A signed reading is an opaque blob, not a number we can store.
            if s.format == Some(ValueFormat::SignedData) {
                continue;
            }
            let field = format!("{path}[{i}].sampledValue[{j}].value");
            let measurand = s.measurand.as_ref().map_or_else(|| ENERGY.to_owned(), enum_name);
            let value = s
                .value
                .trim()
                .parse()
                .map_err(|_| bounds::violation(&field, "not a number"))?;
            out.push(Sample {
                at,
                value: bounds::sample(&field, &measurand, value)?,
                measurand,
                unit: s.unit.as_ref().map(enum_name),
                phase: s.phase.as_ref().map(enum_name),
                context: s.context.as_ref().map(enum_name),
            });
        }
    }
    Ok(out)
}

/// The samples of 2.0.1 meter values under `path`, with `unitOfMeasure.multiplier` applied.
fn samples_v201(values: &[MeterValueType], clock: &Clock, path: &str) -> Result<Vec<Sample>, StationError> {
    let mut out = Vec::new();
    for (i, mv) in values.iter().enumerate() {
        let (at, _) = clock.at(mv.timestamp);
        for (j, s) in mv.sampled_value.iter().enumerate() {
            let field = format!("{path}[{i}].sampledValue[{j}].value");
            let measurand = s.measurand.as_ref().map_or_else(|| ENERGY.to_owned(), enum_name);
            let multiplier = s.unit_of_measure.as_ref().and_then(|u| u.multiplier).unwrap_or(0);
            let value = s.value.to_f64().unwrap_or(f64::NAN) * 10f64.powi(multiplier);
            out.push(Sample {
                at,
                value: bounds::sample(&field, &measurand, value)?,
                measurand,
                unit: s
                    .unit_of_measure
                    .as_ref()
                    .and_then(|u| u.unit.clone())
                    .or_else(|| Some("Wh".into())),
                phase: s.phase.as_ref().map(enum_name),
                context: s.context.as_ref().map(enum_name),
            });
        }
    }
    Ok(out)
}

/// The energy register in Wh, from the last energy sample (kWh converted).
fn energy_wh(samples: &[Sample], field: &str) -> Result<Option<i64>, StationError> {
    samples
        .iter()
        .rev()
        .find(|s| s.measurand == ENERGY && s.phase.is_none())
        .map(|s| {
            let wh = if s.unit.as_deref() == Some("kWh") {
                s.value * 1000.0
            } else {
                s.value
            };
            bounds::register_wh(field, wh)
        })
        .transpose()
}

/// A stop reading below the start means a meter no one can bill from.
fn check_stop(field: &str, start: Option<i64>, stop: i64) -> Result<(), StationError> {
    match start {
        Some(start) if stop < start => Err(bounds::violation(field, "below the transaction's start reading")),
        _ => Ok(()),
    }
}

fn rows(samples: &[Sample], transaction_id: Option<i32>, evse_id: i32) -> Vec<NewMeterValue> {
    samples
        .iter()
        .map(|s| NewMeterValue {
            transaction_id,
            evse_id,
            at: s.at,
            measurand: s.measurand.clone(),
            value: s.value,
            unit: s.unit.clone(),
            phase: s.phase.clone(),
            context: s.context.clone(),
        })
        .collect()
}

impl Station {
    /// May `value` charge at this charger? (See docs/charging.md for the rules.) `kind` is the
    /// 2.0.1 type it was presented as: a registered token presented as another kind is another
    /// identifier, so it is `Invalid`.
    pub(crate) async fn check_token(
        &self,
        charger_id: &str,
        value: &str,
        kind: Option<&IdTokenEnumType>,
    ) -> Result<TokenCheck, StationError> {
        let invalid = TokenCheck {
            decision: Decision::Invalid,
            token: None,
        };
        let Some(charger) = self.store.charger(charger_id).await? else {
            return Ok(invalid);
        };
        let Some(place) = self.store.place_of(&charger).await? else {
            return Ok(invalid);
        };
        let Some(token) = self.store.id_token_by_value(place.root_id, value).await? else {
            return Ok(invalid);
        };
        let decision = if kind.is_some_and(|k| enum_name(k) != token.kind.to_string()) {
            Decision::Invalid
        } else {
            place.decide(&token, Utc::now())
        };
        Ok(TokenCheck {
            decision,
            token: Some(token),
        })
    }

    async fn store_samples(
        &self,
        session: &Session,
        samples: &[Sample],
        transaction_id: Option<i32>,
        evse_id: i32,
    ) -> Result<(), StationError> {
        Ok(self
            .meters
            .write(&session.charger_id, rows(samples, transaction_id, evse_id))
            .await?)
    }

    async fn charger_org(&self, charger_id: &str) -> Result<Option<i32>, StationError> {
        Ok(self.store.charger(charger_id).await?.and_then(|c| c.organisation_id))
    }
}

pub(super) async fn authorize_v16(
    station: &Station,
    s: &mut Session,
    req: auth16::AuthorizeRequest,
) -> Result<auth16::AuthorizeResponse, StationError> {
    let check = station.check_token(&s.charger_id, &req.id_tag, None).await?;
    station.seen(s).await?;
    Ok(auth16::AuthorizeResponse {
        id_tag_info: check.v16(),
    })
}

pub(super) async fn authorize_v201(
    station: &Station,
    s: &mut Session,
    req: auth201::AuthorizeRequest,
) -> Result<auth201::AuthorizeResponse, StationError> {
    let check = station
        .check_token(&s.charger_id, &req.id_token.id_token, Some(&req.id_token.kind))
        .await?;
    station.seen(s).await?;
    Ok(auth201::AuthorizeResponse {
        id_token_info: check.v201(),
        certificate_status: None,
    })
}

pub(super) async fn start_v16(
    station: &Station,
    s: &mut Session,
    req: start16::StartTransactionRequest,
) -> Result<start16::StartTransactionResponse, StationError> {
    s.transactions.clear();
    let connector = bounds::id("connectorId", req.connector_id, 1)?;
    let meter_start = bounds::register_wh("meterStart", f64::from(req.meter_start))?;
    let (started_at, clock_skew) = station.clock().at(req.timestamp);
    let check = station.check_token(&s.charger_id, &req.id_tag, None).await?;
    let start = TransactionStart {
        evse_id: connector,
        connector_id: connector,
        ocpp_transaction_id: None,
        id_token: req.id_tag.clone(),
        id_token_id: check.token.as_ref().map(|t| t.id),
        started_at,
        meter_start_wh: Some(meter_start),
        offline: false,
        clock_skew,
        id_token_status: Some(check.decision),
    };
    // A resend after a reconnect gets the transaction it already has.
    let tx = match station.store.same_start(&s.charger_id, &start).await? {
        Some(tx) => tx,
        None => {
            let org = station.charger_org(&s.charger_id).await?;
            let tx = station.store.start_transaction(&s.charger_id, org, &start).await?;
            if check.decision == Decision::Accepted {
                tx
            } else {
                let refused = TransactionUpdate {
                    stopped_at: Some(started_at),
                    meter_stop_wh: Some(meter_start),
                    stop_reason: Some(REFUSED_AT_START.into()),
                    ..Default::default()
                };
                station.store.update_transaction(tx, refused).await?
            }
        }
    };
    station.seen(s).await?;
    Ok(start16::StartTransactionResponse {
        id_tag_info: check.v16(),
        transaction_id: tx.id,
    })
}

pub(super) async fn stop_v16(
    station: &Station,
    s: &mut Session,
    req: stop16::StopTransactionRequest,
) -> Result<stop16::StopTransactionResponse, StationError> {
    s.transactions.clear();
    let clock = station.clock();
    let samples = samples_v16(
        req.transaction_data.as_deref().unwrap_or_default(),
        &clock,
        "transactionData",
    )?;
    let meter_stop = bounds::register_wh("meterStop", f64::from(req.meter_stop))?;
    let (stopped_at, stop_skewed) = clock.at(req.timestamp);
    let ocpp_id = req.transaction_id.to_string();
    let tx = match station.store.transaction_by_ocpp_id(&s.charger_id, &ocpp_id).await? {
        Some(tx) => tx,
        // Unknown to us (e.g. started while we were unreachable): recorded, not dropped.
        None => {
            let org = station.charger_org(&s.charger_id).await?;
            let start = TransactionStart {
                evse_id: 0,
                connector_id: 0,
                ocpp_transaction_id: Some(ocpp_id),
                id_token: req.id_tag.clone().unwrap_or_default(),
                id_token_id: None,
                started_at: samples.first().map_or(stopped_at, |x| x.at),
                meter_start_wh: None,
                offline: true,
                clock_skew: stop_skewed,
                id_token_status: None,
            };
            station.store.start_transaction(&s.charger_id, org, &start).await?
        }
    };
    // A start refused is stored as ended then; the charger's own stop, if it charged anyway,
    // replaces that.
    let assumed_end = tx.stop_reason.as_deref() == Some(REFUSED_AT_START) && tx.stopped_at == Some(tx.started_at);
    if tx.stopped_at.is_none() || assumed_end {
        check_stop("meterStop", tx.meter_start_wh, meter_stop)?;
        station.store_samples(s, &samples, Some(tx.id), tx.evse_id).await?;
        let update = TransactionUpdate {
            stopped_at: Some(stopped_at),
            meter_stop_wh: Some(meter_stop),
            stop_reason: Some(req.reason.as_ref().map_or_else(|| "Local".to_owned(), enum_name)),
            clock_skew: stop_skewed,
            ..Default::default()
        };
        station.store.update_transaction(tx, update).await?;
    }
    let id_tag_info = match &req.id_tag {
        Some(tag) => Some(station.check_token(&s.charger_id, tag, None).await?.v16()),
        None => None,
    };
    station.seen(s).await?;
    Ok(stop16::StopTransactionResponse { id_tag_info })
}

pub(super) async fn meter_values_v16(
    station: &Station,
    s: &mut Session,
    req: mv16::MeterValuesRequest,
) -> Result<mv16::MeterValuesResponse, StationError> {
    let connector = bounds::id("connectorId", req.connector_id, 0)?;
    let samples = samples_v16(&req.meter_value, &station.clock(), "meterValue")?;
    let tx = match req.transaction_id {
        Some(id) => transaction_of(station, s, TransactionKey::Ocpp(id.to_string())).await?,
        None => None,
    };
    station.store_samples(s, &samples, tx, connector).await?;
    station.seen(s).await?;
    Ok(mv16::MeterValuesResponse {})
}

/// Transactions a connection remembers at most (see [`Session`]).
const MAX_REMEMBERED_TRANSACTIONS: usize = 64;

/// The row id of the transaction `key` names, remembered on the connection.
async fn transaction_of(station: &Station, s: &mut Session, key: TransactionKey) -> Result<Option<i32>, StationError> {
    if let Some(known) = s.transactions.get(&key) {
        return Ok(*known);
    }
    let found = match &key {
        TransactionKey::OpenOn(evse) => station.store.open_transaction(&s.charger_id, *evse).await?,
        TransactionKey::Ocpp(id) => station.store.transaction_by_ocpp_id(&s.charger_id, id).await?,
    };
    let found = found.map(|t| t.id);
    // Bounded: a charger naming ever new EVSEs or transactions only costs reads.
    if s.transactions.len() >= MAX_REMEMBERED_TRANSACTIONS {
        s.transactions.clear();
    }
    s.transactions.insert(key, found);
    Ok(found)
}

pub(super) async fn meter_values_v201(
    station: &Station,
    s: &mut Session,
    req: mv201::MeterValuesRequest,
) -> Result<mv201::MeterValuesResponse, StationError> {
    let evse = bounds::id("evseId", req.evse_id, 0)?;
    let samples = samples_v201(&req.meter_value, &station.clock(), "meterValue")?;
    let tx = transaction_of(station, s, TransactionKey::OpenOn(evse)).await?;
    station.store_samples(s, &samples, tx, evse).await?;
    station.seen(s).await?;
    Ok(mv201::MeterValuesResponse {})
}

/// The token a TransactionEvent stands for and what checking it said: the one it carries, or
/// for a remote start's Started event that carries only the remoteStartId, the one the command
/// sent.
async fn event_token(
    station: &Station,
    s: &Session,
    req: &tx201::TransactionEventRequest,
) -> Result<(Option<TokenCheck>, Option<String>), StationError> {
    let remote_token = match (&req.id_token, req.transaction_info.remote_start_id) {
        (None, Some(remote)) => station.store.remote_start_token(&s.charger_id, remote.into()).await?,
        _ => None,
    };
    let check = match (&req.id_token, &remote_token) {
        (Some(t), _) => Some(station.check_token(&s.charger_id, &t.id_token, Some(&t.kind)).await?),
        (None, Some(token)) => Some(station.check_token(&s.charger_id, token, None).await?),
        (None, None) => None,
    };
    let presented = req.id_token.as_ref().map(|t| t.id_token.clone()).or(remote_token);
    Ok((check, presented))
}

pub(super) async fn transaction_event_v201(
    station: &Station,
    s: &mut Session,
    req: tx201::TransactionEventRequest,
) -> Result<tx201::TransactionEventResponse, StationError> {
    s.transactions.clear();
    let clock = station.clock();
    let samples = samples_v201(req.meter_value.as_deref().unwrap_or_default(), &clock, "meterValue")?;
    let reading = energy_wh(&samples, "meterValue")?;
    let evse = match &req.evse {
        Some(e) => Some((
            bounds::id("evse.id", e.id, 1)?,
            e.connector_id
                .map(|c| bounds::id("evse.connectorId", c, 1))
                .transpose()?,
        )),
        None => None,
    };
    let (at, skewed) = clock.at(req.timestamp);
    let (check, presented) = event_token(station, s, &req).await?;
    let ocpp_id = req.transaction_info.transaction_id.clone();
    let existing = station.store.transaction_by_ocpp_id(&s.charger_id, &ocpp_id).await?;
    let tx = match existing {
        Some(tx) => tx,
        None => {
            // Started, or an Updated/Ended whose Started never reached us: record it either way.
            let start = TransactionStart {
                evse_id: evse.map_or(0, |e| e.0),
                connector_id: evse.and_then(|e| e.1).unwrap_or(1),
                ocpp_transaction_id: Some(ocpp_id),
                id_token: presented.clone().unwrap_or_default(),
                id_token_id: check.as_ref().and_then(|c| c.token.as_ref().map(|t| t.id)),
                started_at: at,
                meter_start_wh: reading,
                offline: req.offline.unwrap_or(false),
                clock_skew: skewed,
                id_token_status: check.as_ref().map(|c| c.decision),
            };
            let org = station.charger_org(&s.charger_id).await?;
            station.store.start_transaction(&s.charger_id, org, &start).await?
        }
    };
    // seqNo makes resends detectable: anything at or below the last stored one was stored.
    let fresh = tx.last_seq_no.is_none_or(|last| req.seq_no > last);
    if fresh {
        let ended = req.event_type == TransactionEventEnumType::Ended;
        if let (true, Some(wh)) = (ended, reading) {
            check_stop("meterValue", tx.meter_start_wh, wh)?;
        }
        station.store_samples(s, &samples, Some(tx.id), tx.evse_id).await?;
        let token_id = check.as_ref().and_then(|c| c.token.as_ref().map(|t| t.id));
        let update = TransactionUpdate {
            last_seq_no: Some(req.seq_no),
            offline: req.offline == Some(true),
            clock_skew: skewed,
            id_token: presented
                .filter(|_| tx.id_token.is_empty())
                .map(|t| (t, token_id, check.as_ref().map(|c| c.decision))),
            meter_start_wh: reading.filter(|_| !ended && tx.meter_start_wh.is_none()),
            meter_stop_wh: reading.filter(|_| ended),
            stopped_at: ended.then_some(at),
            stop_reason: ended.then(|| {
                req.transaction_info
                    .stopped_reason
                    .as_ref()
                    .map_or_else(|| "Local".to_owned(), enum_name)
            }),
        };
        station.store.update_transaction(tx, update).await?;
    }
    station.seen(s).await?;
    Ok(tx201::TransactionEventResponse {
        id_token_info: check.map(|c| c.v201()),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn clock() -> Clock {
        Clock::now(3600)
    }

    /// Whatever a parse lets through is a storable measurement.
    fn storable(samples: &[Sample]) -> Result<(), TestCaseError> {
        for s in samples {
            prop_assert!(s.value.is_finite() && s.value.abs() <= bounds::MAX_SAMPLE);
            if s.measurand == ENERGY {
                prop_assert!(s.value >= 0.0, "negative register {}", s.value);
            }
        }
        if let Ok(Some(wh)) = energy_wh(samples, "x") {
            prop_assert!((0..=bounds::MAX_REGISTER_WH as i64).contains(&wh));
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn any_16_value_string_is_stored_sanely_or_refused(
            value in prop_oneof![
                ".*",
                "[-+]?[0-9]{0,20}(\\.[0-9]{0,20})?([eE][-+]?[0-9]{1,4})?",
                "(?i)[-+]?(nan|inf|infinity)",
            ],
            measurand in prop_oneof![Just("Energy.Active.Import.Register"), Just("Power.Active.Import"), Just("Voltage")],
        ) {
            let mv: MeterValue16 = serde_json::from_value(json!({
                "timestamp": Utc::now(), "sampledValue": [{"value": value, "measurand": measurand}]
            })).expect("a 1.6 meter value");
            if let Ok(samples) = samples_v16(&[mv], &clock(), "meterValue") {
                storable(&samples)?;
            }
        }

        #[test]
        fn any_201_value_and_multiplier_is_stored_sanely_or_refused(
            value in any::<f64>().prop_filter("JSON has no NaN or infinities", |v| v.is_finite()),
            multiplier in any::<i32>(),
        ) {
            let Ok(mv) = serde_json::from_value::<MeterValueType>(json!({
                "timestamp": Utc::now(),
                "sampledValue": [{"value": value, "unitOfMeasure": {"unit": "Wh", "multiplier": multiplier}}]
            })) else {
                return Ok(());
            };
            if let Ok(samples) = samples_v201(&[mv], &clock(), "meterValue") {
                storable(&samples)?;
            }
        }
    }
}
