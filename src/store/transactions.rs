//! Transactions and meter values. Meter values go through a batched writer: one database
//! transaction per batch (on PostgreSQL one statement), flushed by size or after a few
//! milliseconds, so thousands of values per second persist without one INSERT (and one
//! fsync) each.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::values::TokenDecision;
use entity::{id_token, meter_value, transaction};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::sqlx;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};

use super::scope::{Page, scope_condition};
use super::writers::Writers;
use super::{Error, Result, Store};
use crate::access::Scope;

/// Largest batch written at once.
const BATCH_ROWS: usize = 2000;
/// How long the writer waits for more values before committing what it has.
const BATCH_WINDOW: Duration = Duration::from_millis(20);

/// One sampled value to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMeterValue {
    pub transaction_id: Option<i32>,
    pub evse_id: i32,
    pub at: DateTime<Utc>,
    pub measurand: String,
    pub value: f64,
    pub unit: Option<String>,
    pub phase: Option<String>,
    pub context: Option<String>,
}

/// A transaction's start as a charger reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionStart {
    pub evse_id: i32,
    pub connector_id: i32,
    /// `None` for 1.6, where voltgate assigns the id.
    pub ocpp_transaction_id: Option<String>,
    pub id_token: String,
    pub id_token_id: Option<i32>,
    pub started_at: DateTime<Utc>,
    pub meter_start_wh: Option<i64>,
    pub offline: bool,
    /// `started_at` is the receive time: the charger's was implausible.
    pub clock_skew: bool,
    /// What the token was answered, when it was checked.
    pub id_token_status: Option<TokenDecision>,
}

/// The stop reason of a 1.6 transaction whose token was refused at its start: it is stored as
/// ended then, since the charger is expected to stop it (its own StopTransaction, if it charged
/// anyway, replaces the assumed end).
pub const REFUSED_AT_START: &str = "DeAuthorized";

/// What a later message changes on a stored transaction; `None` / `false` leaves a field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TransactionUpdate {
    pub stopped_at: Option<DateTime<Utc>>,
    pub meter_start_wh: Option<i64>,
    pub meter_stop_wh: Option<i64>,
    pub stop_reason: Option<String>,
    pub last_seq_no: Option<i32>,
    /// The id token, its row and what it was answered, for a transaction that started
    /// without one.
    pub id_token: Option<(String, Option<i32>, Option<TokenDecision>)>,
    pub offline: bool,
    pub clock_skew: bool,
}

/// Filters of the charging log.
#[derive(Debug, Clone, Default)]
pub struct TransactionFilter {
    pub charger_id: Option<String>,
    pub id_token: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

struct Batch {
    charger_id: String,
    rows: Vec<NewMeterValue>,
    done: oneshot::Sender<Result<(), String>>,
}

/// Handle on the meter-value writer tasks; cheap to clone. The tasks end with the last handle.
#[derive(Debug, Clone)]
pub struct MeterWriter {
    writers: Writers<Batch>,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch").field("rows", &self.rows.len()).finish()
    }
}

impl MeterWriter {
    /// Starts the writers over `store` ([`Store::writers`] of them, side by side: a charger
    /// sends its next values only once the last are committed, so its rows keep their order).
    pub fn start(store: Store) -> Self {
        Self {
            writers: Writers::start("voltgate-meter-values", store.writers(), 4096, |batches| {
                write_meter_values(store.clone(), batches)
            }),
        }
    }

    /// Stores `rows` for `charger_id`; returns once they are committed.
    pub async fn write(&self, charger_id: &str, rows: Vec<NewMeterValue>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let (done, committed) = oneshot::channel();
        let batch = Batch {
            charger_id: charger_id.to_owned(),
            rows,
            done,
        };
        self.writers
            .send(batch)
            .await
            .map_err(|_| Error::Invalid("meter writer stopped".into()))?;
        committed
            .await
            .map_err(|_| Error::Invalid("meter writer stopped".into()))?
            .map_err(Error::Invalid)
    }
}

/// One writer: batches what arrives within [`BATCH_WINDOW`] (up to [`BATCH_ROWS`] rows).
async fn write_meter_values(store: Store, mut rx: mpsc::Receiver<Batch>) {
    while let Some(first) = rx.recv().await {
        let mut pending = vec![first];
        let mut rows: usize = pending[0].rows.len();
        let window = tokio::time::sleep(BATCH_WINDOW);
        tokio::pin!(window);
        while rows < BATCH_ROWS {
            tokio::select! {
                _ = &mut window => break,
                next = rx.recv() => match next {
                    Some(b) => {
                        rows += b.rows.len();
                        pending.push(b);
                    }
                    None => break,
                },
            }
        }
        let started = std::time::Instant::now();
        let results = store.insert_meter_values(&pending).await;
        store.write_stats().observe("meter_values", rows, started.elapsed());
        for (b, result) in pending.into_iter().zip(results) {
            let _ = b.done.send(result);
        }
    }
}

impl Store {
    /// Writes the batches in one transaction; if that fails, each charger's batch again in a
    /// savepoint of its own (on PostgreSQL, a statement of its own), so a bad write fails only
    /// the charger that sent it.
    async fn insert_meter_values(&self, batches: &[Batch]) -> Vec<Result<(), String>> {
        if self.db.get_database_backend() == DbBackend::Postgres {
            return self.insert_meter_values_postgres(batches).await;
        }
        let all = async {
            let txn = super::begin_write(&self.db).await?;
            insert_rows(&txn, batches).await?;
            txn.commit().await
        };
        let Err(e) = all.await else {
            return vec![Ok(()); batches.len()];
        };
        batch_failed(&e, batches);
        let txn = match self.begin_write().await {
            Ok(txn) => txn,
            Err(e) => return vec![Err(e.to_string()); batches.len()],
        };
        let mut results = Vec::with_capacity(batches.len());
        for b in batches {
            let result = match txn.begin().await {
                Ok(savepoint) => match insert_rows(&savepoint, std::slice::from_ref(b)).await {
                    Ok(()) => savepoint.commit().await,
                    Err(e) => {
                        let _ = savepoint.rollback().await;
                        Err(e)
                    }
                },
                Err(e) => Err(e),
            };
            results.push(alone(b, result));
        }
        match txn.commit().await {
            Ok(()) => results,
            Err(e) => vec![Err(e.to_string()); batches.len()],
        }
    }

    /// [`Store::insert_meter_values`] on PostgreSQL, where one statement is one transaction:
    /// an `UNNEST` of column arrays is one prepared statement whatever the batch's size (a
    /// multi-row `VALUES` list is a new statement for every row count) and needs no BEGIN and
    /// COMMIT round trips. If the batch fails, each charger's values are written alone.
    async fn insert_meter_values_postgres(&self, batches: &[Batch]) -> Vec<Result<(), String>> {
        let pool = self.db.get_postgres_connection_pool();
        let Err(e) = insert_unnest(pool, batches).await else {
            return vec![Ok(()); batches.len()];
        };
        batch_failed(&e, batches);
        let mut results = Vec::with_capacity(batches.len());
        for b in batches {
            let result = insert_unnest(pool, std::slice::from_ref(b)).await;
            results.push(alone(b, result));
        }
        results
    }

    /// A transaction by the charger's id for it.
    pub async fn transaction_by_ocpp_id(&self, charger_id: &str, ocpp_id: &str) -> Result<Option<transaction::Model>> {
        Ok(transaction::Entity::find()
            .filter(transaction::Column::ChargerId.eq(charger_id))
            .filter(transaction::Column::OcppTransactionId.eq(ocpp_id))
            .one(&self.db)
            .await?)
    }

    /// The 1.6 resend check: a start already stored for this connector, time and id tag. A
    /// start whose time was replaced by the receive time matches the open one of its kind.
    pub async fn same_start(&self, charger_id: &str, s: &TransactionStart) -> Result<Option<transaction::Model>> {
        let when = if s.clock_skew {
            // Open, or refused at its start (stored as ended then).
            let unended = Condition::any().add(transaction::Column::StoppedAt.is_null()).add(
                Condition::all()
                    .add(transaction::Column::StopReason.eq(REFUSED_AT_START))
                    .add(Expr::col(transaction::Column::StoppedAt).equals(transaction::Column::StartedAt)),
            );
            Condition::all()
                .add(transaction::Column::ClockSkew.eq(true))
                .add(unended)
        } else {
            Condition::all().add(transaction::Column::StartedAt.eq(s.started_at))
        };
        Ok(transaction::Entity::find()
            .filter(transaction::Column::ChargerId.eq(charger_id))
            .filter(transaction::Column::ConnectorId.eq(s.connector_id))
            .filter(when)
            .filter(transaction::Column::IdToken.eq(s.id_token.clone()))
            .one(&self.db)
            .await?)
    }

    /// The open transaction on an EVSE, if any (for meter values that name none).
    pub async fn open_transaction(&self, charger_id: &str, evse_id: i32) -> Result<Option<transaction::Model>> {
        Ok(transaction::Entity::find()
            .filter(transaction::Column::ChargerId.eq(charger_id))
            .filter(transaction::Column::EvseId.eq(evse_id))
            .filter(transaction::Column::StoppedAt.is_null())
            .order_by_desc(transaction::Column::Id)
            .one(&self.db)
            .await?)
    }

    /// Stores a transaction start; for 1.6 (no charger id) the row's own id becomes the
    /// transaction id the charger gets.
    pub async fn start_transaction(
        &self,
        charger_id: &str,
        organisation_id: Option<i32>,
        s: &TransactionStart,
    ) -> Result<transaction::Model> {
        let txn = self.begin_write().await?;
        let row = transaction::ActiveModel {
            charger_id: Set(charger_id.to_owned()),
            organisation_id: Set(organisation_id),
            evse_id: Set(s.evse_id),
            connector_id: Set(s.connector_id),
            ocpp_transaction_id: Set(s
                .ocpp_transaction_id
                .clone()
                .unwrap_or_else(|| format!("pending:{}", crate::crypto::random_token(9)))),
            id_token: Set(s.id_token.clone()),
            id_token_id: Set(s.id_token_id),
            started_at: Set(s.started_at),
            meter_start_wh: Set(s.meter_start_wh),
            offline: Set(s.offline),
            clock_skew: Set(s.clock_skew),
            id_token_status: Set(s.id_token_status),
            updated_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        let row = if s.ocpp_transaction_id.is_none() {
            let mut active: transaction::ActiveModel = row.clone().into();
            active.ocpp_transaction_id = Set(row.id.to_string());
            active.update(&txn).await?
        } else {
            row
        };
        txn.commit().await?;
        Ok(row)
    }

    /// Applies what a charger reported later about a stored transaction.
    pub async fn update_transaction(&self, tx: transaction::Model, u: TransactionUpdate) -> Result<transaction::Model> {
        let mut active: transaction::ActiveModel = tx.into();
        if let Some(at) = u.stopped_at {
            active.stopped_at = Set(Some(at));
        }
        if let Some(wh) = u.meter_start_wh {
            active.meter_start_wh = Set(Some(wh));
        }
        if let Some(wh) = u.meter_stop_wh {
            active.meter_stop_wh = Set(Some(wh));
        }
        if let Some(reason) = u.stop_reason {
            active.stop_reason = Set(Some(reason));
        }
        if let Some(seq) = u.last_seq_no {
            active.last_seq_no = Set(Some(seq));
        }
        if let Some((token, token_id, status)) = u.id_token {
            active.id_token = Set(token);
            active.id_token_id = Set(token_id);
            active.id_token_status = Set(status);
        }
        // Flags only ever go on: a later message does not undo what an earlier one told.
        if u.offline {
            active.offline = Set(true);
        }
        if u.clock_skew {
            active.clock_skew = Set(true);
        }
        active.updated_at = Set(Utc::now());
        Ok(active.update(&self.db).await?)
    }

    /// The charging log: transactions at chargers of organisations in the scope, or charged
    /// with tokens of those organisations, newest first.
    pub async fn transactions_in(
        &self,
        scope: &Scope,
        f: &TransactionFilter,
        page: Page,
    ) -> Result<Vec<transaction::Model>> {
        let mut cond = Condition::all().add(transaction_scope(scope));
        if let Some(c) = &f.charger_id {
            cond = cond.add(transaction::Column::ChargerId.eq(c.clone()));
        }
        if let Some(t) = &f.id_token {
            cond = cond.add(transaction::Column::IdToken.eq(t.clone()));
        }
        if let Some(from) = f.from {
            cond = cond.add(transaction::Column::StartedAt.gte(from));
        }
        if let Some(to) = f.to {
            cond = cond.add(transaction::Column::StartedAt.lt(to));
        }
        Ok(transaction::Entity::find()
            .filter(cond)
            .order_by_desc(transaction::Column::StartedAt)
            .order_by_desc(transaction::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// (organisation, meter start, meter stop) of the transactions in the scope started at or
    /// after `from`: what the dashboard sums.
    pub async fn transaction_meters_since(
        &self,
        scope: &Scope,
        from: DateTime<Utc>,
    ) -> Result<Vec<(Option<i32>, Option<i64>, Option<i64>)>> {
        Ok(transaction::Entity::find()
            .select_only()
            .columns([
                transaction::Column::OrganisationId,
                transaction::Column::MeterStartWh,
                transaction::Column::MeterStopWh,
            ])
            .filter(transaction_scope(scope))
            .filter(transaction::Column::StartedAt.gte(from))
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Meter values of a transaction, oldest first.
    pub async fn meter_values(&self, transaction_id: i32) -> Result<Vec<meter_value::Model>> {
        Ok(meter_value::Entity::find()
            .filter(meter_value::Column::TransactionId.eq(transaction_id))
            .order_by_asc(meter_value::Column::At)
            .order_by_asc(meter_value::Column::Id)
            .all(&self.db)
            .await?)
    }
}

/// Inserts the chargers' batches, many chargers' rows to a statement: a statement per
/// charger made a batch of a thousand chargers a thousand round trips to the database.
async fn insert_rows(db: &impl ConnectionTrait, batches: &[Batch]) -> std::result::Result<(), DbErr> {
    let rows: Vec<meter_value::ActiveModel> = batches
        .iter()
        .flat_map(|b| {
            b.rows.iter().map(|r| meter_value::ActiveModel {
                transaction_id: Set(r.transaction_id),
                charger_id: Set(b.charger_id.clone()),
                evse_id: Set(r.evse_id),
                at: Set(r.at),
                measurand: Set(r.measurand.clone()),
                value: Set(r.value),
                unit: Set(r.unit.clone()),
                phase: Set(r.phase.clone()),
                context: Set(r.context.clone()),
                ..Default::default()
            })
        })
        .collect();
    // Collected first: a lazy iterator over the borrowed batches held across the inserts'
    // awaits makes the writer task's future not `Send`. Stay well below SQLite's
    // bound-parameter limit (9 columns per row).
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        meter_value::Entity::insert_many(rows.by_ref().take(500))
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Logs that a batch failed as a whole, before its members are written one by one.
fn batch_failed(e: &impl std::fmt::Display, batches: &[Batch]) {
    tracing::warn!(error = %e, batches = batches.len(), "meter batch failed; writing each charger's values alone");
}

/// The outcome of writing `b` alone, logged when it failed.
fn alone(b: &Batch, result: std::result::Result<(), impl std::fmt::Display>) -> Result<(), String> {
    result.map_err(|e| {
        tracing::error!(charger = %b.charger_id, error = %e, rows = b.rows.len(), "meter values not stored");
        e.to_string()
    })
}

/// The batches' rows as one `INSERT ... SELECT FROM UNNEST(...)` (PostgreSQL).
async fn insert_unnest(pool: &sqlx::PgPool, batches: &[Batch]) -> std::result::Result<(), sqlx::Error> {
    let mut columns = MeterColumns::default();
    for b in batches {
        for r in &b.rows {
            columns.push(&b.charger_id, r);
        }
    }
    let MeterColumns {
        transaction_id,
        charger_id,
        evse_id,
        at,
        measurand,
        value,
        unit,
        phase,
        context,
    } = columns;
    sqlx::query(
        "INSERT INTO meter_value (transaction_id, charger_id, evse_id, at, measurand, value, unit, phase, context) \
         SELECT * FROM UNNEST($1::int4[], $2::varchar[], $3::int4[], $4::timestamptz[], $5::varchar[], \
         $6::float8[], $7::varchar[], $8::varchar[], $9::varchar[])",
    )
    .bind(transaction_id)
    .bind(charger_id)
    .bind(evse_id)
    .bind(at)
    .bind(measurand)
    .bind(value)
    .bind(unit)
    .bind(phase)
    .bind(context)
    .execute(pool)
    .await?;
    Ok(())
}

/// Meter values column by column, as [`insert_unnest`] binds them.
#[derive(Default)]
struct MeterColumns<'a> {
    transaction_id: Vec<Option<i32>>,
    charger_id: Vec<&'a str>,
    evse_id: Vec<i32>,
    at: Vec<DateTime<Utc>>,
    measurand: Vec<&'a str>,
    value: Vec<f64>,
    unit: Vec<Option<&'a str>>,
    phase: Vec<Option<&'a str>>,
    context: Vec<Option<&'a str>>,
}

impl<'a> MeterColumns<'a> {
    fn push(&mut self, charger_id: &'a str, r: &'a NewMeterValue) {
        self.transaction_id.push(r.transaction_id);
        self.charger_id.push(charger_id);
        self.evse_id.push(r.evse_id);
        self.at.push(r.at);
        self.measurand.push(&r.measurand);
        self.value.push(r.value);
        self.unit.push(r.unit.as_deref());
        self.phase.push(r.phase.as_deref());
        self.context.push(r.context.as_deref());
    }
}

/// Transactions at chargers of organisations in the scope, or charged with tokens of those
/// organisations (a fleet manager's cards wherever they charged).
fn transaction_scope(scope: &Scope) -> Condition {
    let tokens = Query::select()
        .column(id_token::Column::Id)
        .from(id_token::Entity)
        .cond_where(scope_condition(scope, id_token::Column::OrganisationId, None, None))
        .to_owned();
    Condition::any()
        .add(scope_condition(scope, transaction::Column::OrganisationId, None, None))
        .add(transaction::Column::IdTokenId.in_subquery(tokens))
}
