//! The charging log: transactions at the caller's chargers or charged with its organisations'
//! tokens, with cost only for roles that see billing.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::transaction;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ListQuery, Result, list_scope};
use crate::access::{Permission, Principal};
use crate::state::AppState;
use crate::store::TransactionFilter;
use entity::values::TokenDecision;

/// Filters of `GET /api/v1/transactions`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TransactionQuery {
    pub charger_id: Option<String>,
    pub id_token: Option<String>,
    /// Started at or after.
    pub from: Option<DateTime<Utc>>,
    /// Started before.
    pub to: Option<DateTime<Utc>>,
    /// `json` (default) or `csv`.
    #[param(inline)]
    pub format: Option<LogFormat>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub offset: Option<u64>,
    pub organisation_id: Option<i32>,
}

/// How the charging log is answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Json,
    Csv,
}

/// One charging-log row.
#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionOut {
    pub id: i32,
    pub charger_id: String,
    pub evse_id: i32,
    pub connector_id: i32,
    /// The charger's own transaction id.
    pub ocpp_transaction_id: String,
    pub id_token: String,
    pub started_at: DateTime<Utc>,
    pub stopped_at: Option<DateTime<Utc>>,
    pub meter_start_wh: Option<i64>,
    pub meter_stop_wh: Option<i64>,
    pub energy_wh: Option<i64>,
    pub stop_reason: Option<String>,
    /// What the token was answered at the start; a 1.6 start refused is stored as ended then
    /// (`stop_reason` `DeAuthorized`) unless the charger reports its own stop.
    pub id_token_status: Option<TokenDecision>,
    /// A time the charger reported was implausible (`ocpp.max_clock_skew_s`): the receive
    /// time was stored instead.
    pub clock_skew: bool,
    /// Energy × the tariff of the charger's organisation (or the nearest above it); only for
    /// roles that see billing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<f64>)]
    pub cost: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// The charging log, newest first.
pub async fn list(state: &AppState, p: &Principal, q: &TransactionQuery) -> Result<Vec<TransactionOut>> {
    let lq = ListQuery {
        limit: q.limit,
        offset: q.offset,
        organisation_id: q.organisation_id,
    };
    let scope = list_scope(state, p, Permission::TransactionsRead, &lq, "transaction.list").await?;
    let filter = TransactionFilter {
        charger_id: q.charger_id.clone(),
        id_token: q.id_token.clone(),
        from: q.from,
        to: q.to,
    };
    let rows = state.store.transactions_in(&scope, &filter, lq.page()?).await?;
    // Billing is decided per organisation; remember each answer for the page.
    let mut prices: HashMap<i32, Option<(f64, String)>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for t in rows {
        let price = match t.organisation_id {
            Some(org_id) => match prices.get(&org_id) {
                Some(known) => known.clone(),
                None => {
                    let price = billing_price(state, p, org_id).await?;
                    prices.insert(org_id, price.clone());
                    price
                }
            },
            None => None,
        };
        out.push(row(t, price));
    }
    Ok(out)
}

/// The tariff that applies to transactions at `org_id`'s chargers, if the caller sees billing
/// there.
pub(crate) async fn billing_price(state: &AppState, p: &Principal, org_id: i32) -> Result<Option<(f64, String)>> {
    let Some(org) = state.store.organisation(org_id).await? else {
        return Ok(None);
    };
    if !p.allows(Permission::Billing, (&org).into()) {
        return Ok(None);
    }
    Ok(state
        .store
        .tariff_for(&org.path)
        .await?
        .map(|t| (t.price_per_kwh, t.currency)))
}

/// Energy between two meter readings (never negative); unknown until both are in.
pub(crate) fn energy_wh(start: Option<i64>, stop: Option<i64>) -> Option<i64> {
    match (start, stop) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a).max(0)),
        _ => None,
    }
}

/// What `wh` costs at `per_kwh`, in decimal and rounded to cents (half away from zero);
/// `None` if the amount does not fit.
pub(crate) fn cost(wh: i64, per_kwh: f64) -> Option<Decimal> {
    let price = Decimal::from_f64(per_kwh)?;
    let kwh = Decimal::from(wh).checked_div(Decimal::ONE_THOUSAND)?;
    Some(
        kwh.checked_mul(price)?
            .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero),
    )
}

fn row(t: transaction::Model, price: Option<(f64, String)>) -> TransactionOut {
    let energy_wh = energy_wh(t.meter_start_wh, t.meter_stop_wh);
    let (cost, currency) = match (price, energy_wh) {
        (Some((per_kwh, currency)), Some(wh)) => (cost(wh, per_kwh), Some(currency)),
        _ => (None, None),
    };
    TransactionOut {
        id: t.id,
        charger_id: t.charger_id,
        evse_id: t.evse_id,
        connector_id: t.connector_id,
        ocpp_transaction_id: t.ocpp_transaction_id,
        id_token: t.id_token,
        started_at: t.started_at,
        stopped_at: t.stopped_at,
        meter_start_wh: t.meter_start_wh,
        meter_stop_wh: t.meter_stop_wh,
        energy_wh,
        stop_reason: t.stop_reason,
        clock_skew: t.clock_skew,
        id_token_status: t.id_token_status,
        cost,
        currency,
    }
}

/// One CSV field: quoted when it must be, and never a spreadsheet formula (text from chargers
/// could be one: CSV injection).
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The log as CSV (RFC 4180), same columns as the JSON; cost columns only with billing.
pub fn to_csv(rows: &[TransactionOut]) -> String {
    let field = csv_field;
    let opt = |v: Option<String>| v.unwrap_or_default();
    let billing = rows.iter().any(|r| r.cost.is_some());
    let mut out = String::from(
        "id,charger_id,evse_id,connector_id,ocpp_transaction_id,id_token,started_at,stopped_at,meter_start_wh,meter_stop_wh,energy_wh,stop_reason",
    );
    if billing {
        out.push_str(",cost,currency");
    }
    out.push_str("\r\n");
    for r in rows {
        let mut cols = vec![
            r.id.to_string(),
            field(&r.charger_id),
            r.evse_id.to_string(),
            r.connector_id.to_string(),
            field(&r.ocpp_transaction_id),
            field(&r.id_token),
            r.started_at.to_rfc3339(),
            opt(r.stopped_at.map(|t| t.to_rfc3339())),
            opt(r.meter_start_wh.map(|v| v.to_string())),
            opt(r.meter_stop_wh.map(|v| v.to_string())),
            opt(r.energy_wh.map(|v| v.to_string())),
            field(r.stop_reason.as_deref().unwrap_or_default()),
        ];
        if billing {
            cols.push(opt(r.cost.map(|c| format!("{c:.2}"))));
            cols.push(field(r.currency.as_deref().unwrap_or_default()));
        }
        out.push_str(&cols.join(","));
        out.push_str("\r\n");
    }
    out
}
