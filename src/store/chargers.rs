//! Chargers and their connectors.

use chrono::{DateTime, Utc};
use entity::values::RegistrationStatus;
use entity::{charger, charger_fault, connector, meter_value, organisation};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IdenStatic, QueryFilter, QueryOrder, QuerySelect, QueryTrait, RuntimeErr,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::{mpsc, oneshot};

use super::scope::{Page, scope_condition};
use super::{Error, FaultChange, NewEvent, Result, Store};
use crate::access::{Authorized, Scope, cap};
use crate::ocpp::ChargerId;

/// What a BootNotification tells about a charger, in either version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BootInfo {
    pub ocpp_version: String,
    pub vendor: String,
    pub model: String,
    pub serial: Option<String>,
    pub firmware_version: Option<String>,
}

/// What the per-organisation tally counts of one charger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargerTally {
    pub organisation_id: i32,
    /// Whether a fault is open on it.
    pub faulted: bool,
    /// Its connectors' last statuses (EVSE 0, the charger itself, left out).
    pub connectors: Vec<String>,
}

/// One connector's status as a StatusNotification reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorStatus {
    pub evse_id: i32,
    pub connector_id: i32,
    pub status: String,
    pub error_code: Option<String>,
    pub info: Option<String>,
    pub vendor_error_code: Option<String>,
    pub at: DateTime<Utc>,
}

/// A handshake's wait for its charger's row.
type RowAsk = (
    String,
    oneshot::Sender<std::result::Result<Option<charger::Model>, DbErr>>,
);

/// Charger rows for handshakes, many to a query: in a reconnect storm thousands of handshakes
/// want their row at once, and a query each (on SQLite each a hand-off to a connection's
/// thread and back) was a quarter of a 10,000-charger storm's server time. What arrives while
/// a query runs shares the next one; alone, a handshake waits for nothing.
#[derive(Clone, Debug)]
pub(super) struct ChargerReads {
    asks: mpsc::Sender<RowAsk>,
}

/// Rows per query at most.
const READ_BATCH: usize = 500;

impl ChargerReads {
    /// Starts the reader over `db`; it ends with the last handle.
    pub(super) fn start(db: DatabaseConnection) -> Self {
        let (asks, mut queue) = mpsc::channel::<RowAsk>(4096);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(READ_BATCH);
            while queue.recv_many(&mut batch, READ_BATCH).await > 0 {
                let ids: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
                match charger::Entity::find()
                    .filter(charger::Column::Id.is_in(ids))
                    .all(&db)
                    .await
                {
                    Ok(rows) => {
                        let by_id: HashMap<String, charger::Model> =
                            rows.into_iter().map(|c| (c.id.clone(), c)).collect();
                        for (id, done) in batch.drain(..) {
                            let _ = done.send(Ok(by_id.get(&id).cloned()));
                        }
                    }
                    Err(e) => {
                        // Each waiter gets the error, still telling an outage from the rest.
                        let unavailable = super::unavailable(&e);
                        for (_, done) in batch.drain(..) {
                            let _ = done.send(Err(if unavailable {
                                DbErr::Conn(RuntimeErr::Internal(e.to_string()))
                            } else {
                                DbErr::Custom(e.to_string())
                            }));
                        }
                    }
                }
            }
        });
        Self { asks }
    }
}

impl Store {
    /// A charger by its charge point id.
    pub async fn charger(&self, id: &str) -> Result<Option<charger::Model>> {
        Ok(charger::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// [`Store::charger`] for a handshake: read together with the others arriving at once.
    pub async fn charger_for_handshake(&self, id: &str) -> Result<Option<charger::Model>> {
        let (done, row) = oneshot::channel();
        let stopped = || Error::Db(DbErr::Custom("charger reader stopped".into()));
        self.reads
            .asks
            .send((id.to_owned(), done))
            .await
            .map_err(|_| stopped())?;
        Ok(row.await.map_err(|_| stopped())??)
    }

    /// Every charger, ordered by id (CLI).
    pub async fn list_chargers(&self) -> Result<Vec<charger::Model>> {
        Ok(charger::Entity::find()
            .order_by_asc(charger::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Chargers that connected unregistered and wait to be adopted (`unknown_chargers =
    /// pending`), most recently seen first; adopting is decided at the root, so listing them
    /// takes the proof on it.
    pub async fn unassigned_chargers(
        &self,
        root: &Authorized<cap::ChargersWrite>,
        limit: u64,
    ) -> Result<Vec<charger::Model>> {
        let is_root = organisation::Entity::find_by_id(root.organisation_id())
            .one(&self.db)
            .await?
            .is_some_and(|o| o.parent_id.is_none());
        if !is_root {
            return Ok(Vec::new());
        }
        Ok(charger::Entity::find()
            .filter(charger::Column::OrganisationId.is_null())
            .order_by_desc(charger::Column::LastSeenAt)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Registers a charger in the organisation `auth` was granted on (409 if it already
    /// belongs somewhere); an unassigned one (waiting after a pending boot) is taken over only
    /// with `adopt`, a proof on the root of the tree.
    pub async fn create_charger(
        &self,
        auth: &Authorized<cap::ChargersWrite>,
        id: &ChargerId,
        fields: NewChargerFields,
        adopt: Option<&Authorized<cap::ChargersWrite>>,
    ) -> Result<charger::Model> {
        let NewChargerFields {
            site_id,
            password_hash,
            security_profile,
            local_list,
        } = fields;
        auth.ensure(auth.organisation_id())?;
        let row = charger::ActiveModel {
            id: Set(id.to_string()),
            organisation_id: Set(Some(auth.organisation_id())),
            site_id: Set(site_id),
            password_hash: Set(password_hash.clone()),
            security_profile: Set(security_profile.map(i32::from)),
            local_list: Set(local_list),
            registration_status: Set(RegistrationStatus::Accepted),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        // Insert, or take over an unassigned row; never touch a charger someone owns.
        let inserted = charger::Entity::insert(row)
            .on_conflict(OnConflict::column(charger::Column::Id).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await?;
        if inserted == 0 {
            let Some(root) = adopt else {
                return Err(Error::Conflict(format!("charger {id} is already registered")));
            };
            // Adoption is for the root of the tree: a proof on anything below it will not do.
            let on_root = organisation::Entity::find_by_id(root.organisation_id())
                .one(&self.db)
                .await?
                .is_some_and(|o| o.parent_id.is_none());
            if !on_root {
                return Err(Error::Access(crate::access::AccessError::Forbidden));
            }
            let adopted = charger::Entity::update_many()
                .set(charger::ActiveModel {
                    organisation_id: Set(Some(auth.organisation_id())),
                    site_id: Set(site_id),
                    password_hash: Set(password_hash),
                    security_profile: Set(security_profile.map(i32::from)),
                    local_list: Set(local_list),
                    ..Default::default()
                })
                .filter(charger::Column::Id.eq(id.as_str()))
                .filter(charger::Column::OrganisationId.is_null())
                .exec(&self.db)
                .await?;
            if adopted.rows_affected == 0 {
                return Err(Error::Conflict(format!("charger {id} is already registered")));
            }
        }
        self.touched_tree_of(auth.organisation_id(), false).await;
        self.charger(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("charger {id}")))
    }

    /// Applies a charger's changes in one write: all of them or none.
    pub async fn update_charger(
        &self,
        auth: &Authorized<cap::ChargersWrite>,
        c: charger::Model,
        changes: ChargerChanges<'_>,
    ) -> Result<charger::Model> {
        auth.ensure(c.organisation_id.unwrap_or_default())?;
        let was_in = c.organisation_id;
        let mut active: charger::ActiveModel = c.into();
        if let Some(target) = changes.move_to {
            target.ensure(target.organisation_id())?;
            active.organisation_id = Set(Some(target.organisation_id()));
        }
        if let Some(site_id) = changes.site_id {
            active.site_id = Set(site_id);
        }
        let new_password = changes.password_hash.is_some();
        if let Some(hash) = changes.password_hash {
            active.password_hash = Set(Some(hash));
            active.password_changed_at = Set(Some(Utc::now()));
        }
        if let Some(profile) = changes.security_profile {
            active.security_profile = Set(profile.map(i32::from));
        }
        let place_changed = changes.move_to.is_some() || changes.site_id.is_some() || changes.local_list.is_some();
        if let Some(on) = changes.local_list {
            active.local_list = Set(on);
        }
        let txn = self.begin_write().await?;
        let updated = active.update(&txn).await?;
        if new_password {
            // A password set by hand (after a site visit) ends any rotation in flight.
            super::charger_passwords::withdraw_all(&txn, &updated.id).await?;
        }
        txn.commit().await?;
        if place_changed {
            for org in [was_in, updated.organisation_id].into_iter().flatten() {
                self.touched_tree_of(org, false).await;
            }
        }
        Ok(updated)
    }

    /// Deletes a charger with everything of it. Its meter values go by name: on PostgreSQL
    /// their charger id is not a foreign key (migration 19); the rest cascades.
    pub async fn delete_charger(&self, auth: &Authorized<cap::ChargersWrite>, c: &charger::Model) -> Result<()> {
        auth.ensure(c.organisation_id.unwrap_or_default())?;
        let txn = self.begin_write().await?;
        meter_value::Entity::delete_many()
            .filter(meter_value::Column::ChargerId.eq(&c.id))
            .exec(&txn)
            .await?;
        charger::Entity::delete_by_id(c.id.clone()).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Chargers in the scope (home sites only where the grant is home chargers only); with
    /// `faulted`, only those with (or without) an open fault.
    pub async fn chargers_in(&self, scope: &Scope, faulted: Option<bool>, page: Page) -> Result<Vec<charger::Model>> {
        let mut query = charger::Entity::find().filter(charger_scope(scope));
        if let Some(faulted) = faulted {
            let with_faults = Query::select()
                .column(charger_fault::Column::ChargerId)
                .from(charger_fault::Entity)
                .to_owned();
            query = query.filter(if faulted {
                charger::Column::Id.in_subquery(with_faults)
            } else {
                charger::Column::Id.not_in_subquery(with_faults)
            });
        }
        Ok(query
            .order_by_asc(charger::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// The ids of every charger in the scope (the dashboard counts which are online).
    pub async fn charger_ids_in(&self, scope: &Scope) -> Result<Vec<String>> {
        Ok(charger::Entity::find()
            .select_only()
            .column(charger::Column::Id)
            .filter(charger_scope(scope))
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Which of `ids` are chargers in the scope (a live stream asks before it tells).
    pub async fn charger_ids_among(&self, scope: &Scope, ids: Vec<String>) -> Result<Vec<String>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(charger::Entity::find()
            .select_only()
            .column(charger::Column::Id)
            .filter(charger::Column::Id.is_in(ids))
            .filter(charger_scope(scope))
            .order_by_asc(charger::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Every charger in the scope with its organisation and whether a fault is open on it
    /// (the organisation tree counts them per node).
    pub async fn charger_places_in(&self, scope: &Scope) -> Result<Vec<(String, i32, bool)>> {
        let (chargers, faulted) = tokio::try_join!(
            charger::Entity::find()
                .select_only()
                .columns([charger::Column::Id, charger::Column::OrganisationId])
                .filter(charger_scope(scope))
                .into_tuple::<(String, i32)>()
                .all(&self.db),
            charger_fault::Entity::find()
                .select_only()
                .column(charger_fault::Column::ChargerId)
                .distinct()
                .filter(charger_fault::Column::ChargerId.in_subquery(charger_ids(scope)))
                .into_tuple::<String>()
                .all(&self.db),
        )?;
        let faulted: std::collections::HashSet<String> = faulted.into_iter().collect();
        Ok(chargers
            .into_iter()
            .map(|(id, org)| {
                let fault = faulted.contains(&id);
                (id, org, fault)
            })
            .collect())
    }

    /// What [`crate::tally`] counts of the chargers named, or of every charger that belongs to
    /// an organisation. The one charger read that crosses every subtree: the tally lets its
    /// figures out only as sums over a caller's [`Scope`].
    pub(crate) async fn charger_tallies(&self, ids: Option<&[String]>) -> Result<HashMap<String, ChargerTally>> {
        let (chargers, connectors, faulted) = tokio::try_join!(
            charger::Entity::find()
                .select_only()
                .columns([charger::Column::Id, charger::Column::OrganisationId])
                .filter(charger::Column::OrganisationId.is_not_null())
                .filter(among(charger::Column::Id, ids))
                .into_tuple::<(String, i32)>()
                .all(&self.db),
            connector::Entity::find()
                .select_only()
                .columns([connector::Column::ChargerId, connector::Column::Status])
                .filter(connector::Column::EvseId.ne(0))
                .filter(among(connector::Column::ChargerId, ids))
                .into_tuple::<(String, String)>()
                .all(&self.db),
            charger_fault::Entity::find()
                .select_only()
                .column(charger_fault::Column::ChargerId)
                .distinct()
                .filter(among(charger_fault::Column::ChargerId, ids))
                .into_tuple::<String>()
                .all(&self.db),
        )?;
        let mut tallies: HashMap<String, ChargerTally> = chargers
            .into_iter()
            .map(|(id, organisation_id)| {
                let tally = ChargerTally {
                    organisation_id,
                    faulted: false,
                    connectors: Vec::new(),
                };
                (id, tally)
            })
            .collect();
        for (id, status) in connectors {
            if let Some(t) = tallies.get_mut(&id) {
                t.connectors.push(status);
            }
        }
        for id in faulted {
            if let Some(t) = tallies.get_mut(&id) {
                t.faulted = true;
            }
        }
        Ok(tallies)
    }

    /// The `limit` chargers in the scope that last reported one of the firmware `statuses`,
    /// newest first: (id, status, at).
    pub async fn firmware_status_in(
        &self,
        scope: &Scope,
        statuses: &[&str],
        limit: u64,
    ) -> Result<Vec<(String, Option<String>, Option<DateTime<Utc>>)>> {
        Ok(charger::Entity::find()
            .select_only()
            .columns([
                charger::Column::Id,
                charger::Column::FirmwareStatus,
                charger::Column::FirmwareStatusAt,
            ])
            .filter(charger_scope(scope))
            .filter(charger::Column::FirmwareStatus.is_in(statuses.iter().copied()))
            .order_by_desc(charger::Column::FirmwareStatusAt)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Connectors of the chargers in the scope by last status, counted in the query (EVSE 0,
    /// the charger itself, is no connector).
    pub async fn connector_counts_in(&self, scope: &Scope) -> Result<Vec<(String, i64)>> {
        Ok(connector::Entity::find()
            .select_only()
            .column(connector::Column::Status)
            .column_as(connector::Column::ChargerId.count(), "n")
            .filter(connector::Column::ChargerId.in_subquery(charger_ids(scope)))
            .filter(connector::Column::EvseId.ne(0))
            .group_by(connector::Column::Status)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Connectors of several chargers at once, for list answers.
    pub async fn connectors_of(&self, charger_ids: &[String]) -> Result<Vec<connector::Model>> {
        if charger_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(connector::Entity::find()
            .filter(connector::Column::ChargerId.is_in(charger_ids.iter().cloned()))
            .order_by_asc(connector::Column::ChargerId)
            .order_by_asc(connector::Column::EvseId)
            .order_by_asc(connector::Column::ConnectorId)
            .all(&self.db)
            .await?)
    }

    /// Records a charger that connected without being registered, so operators can see it.
    pub async fn note_unassigned_charger(&self, id: &ChargerId) -> Result<()> {
        let row = charger::ActiveModel {
            id: Set(id.to_string()),
            organisation_id: Set(None),
            registration_status: Set(RegistrationStatus::Pending),
            created_at: Set(Utc::now()),
            ..Default::default()
        };
        charger::Entity::insert(row)
            .on_conflict(OnConflict::column(charger::Column::Id).do_nothing().to_owned())
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Stores what a BootNotification reported; returns whether the charger is assigned to an
    /// organisation, which its registration is set from (Accepted if so, Pending if not).
    /// The assignment is read by the same statement that writes the boot, in the group
    /// commit: a storm's boots cost no read of their own, and an assignment made while the
    /// boot waits is the one it is answered with.
    pub async fn record_boot(&self, id: &str, info: &BootInfo, at: DateTime<Utc>) -> Result<bool> {
        let (id, info) = (id.to_owned(), info.clone());
        let missing = format!("charger {id}");
        let assigned = Arc::new(AtomicBool::new(false));
        let report = Arc::clone(&assigned);
        self.group
            .run(Box::new(move |txn| {
                let (id, info, report) = (id.clone(), info.clone(), Arc::clone(&report));
                Box::pin(async move {
                    let registration =
                        Expr::case(charger::Column::OrganisationId.is_null(), RegistrationStatus::Pending)
                            .finally(RegistrationStatus::Accepted);
                    let mut update = charger::Entity::update_many()
                        .filter(charger::Column::Id.eq(id))
                        .set(charger::ActiveModel {
                            ocpp_version: Set(Some(info.ocpp_version)),
                            vendor: Set(Some(info.vendor)),
                            model: Set(Some(info.model)),
                            serial: Set(info.serial),
                            firmware_version: Set(info.firmware_version),
                            last_seen_at: Set(Some(at)),
                            last_boot_at: Set(Some(at)),
                            ..Default::default()
                        })
                        .col_expr(charger::Column::RegistrationStatus, registration.into())
                        .into_query();
                    update.returning_col(charger::Column::OrganisationId);
                    let row = txn
                        .query_one(txn.get_database_backend().build(&update))
                        .await?
                        .ok_or(DbErr::RecordNotUpdated)?;
                    let organisation: Option<i32> = row.try_get("", charger::Column::OrganisationId.as_str())?;
                    report.store(organisation.is_some(), Ordering::Relaxed);
                    Ok(())
                })
            }))
            .await
            .map_err(|e| match e {
                sea_orm::DbErr::RecordNotUpdated => Error::NotFound(missing),
                other => Error::Db(other),
            })?;
        Ok(assigned.load(Ordering::Relaxed))
    }

    /// Sets `last_seen_at`.
    pub async fn touch_charger(&self, id: &str, at: DateTime<Utc>) -> Result<()> {
        let id = id.to_owned();
        self.group
            .run(Box::new(move |txn| {
                let id = id.clone();
                Box::pin(async move {
                    charger::Entity::update_many()
                        .filter(charger::Column::Id.eq(id))
                        .set(charger::ActiveModel {
                            last_seen_at: Set(Some(at)),
                            ..Default::default()
                        })
                        .exec(txn)
                        .await?;
                    Ok(())
                })
            }))
            .await?;
        Ok(())
    }

    /// Stores a connector's latest status (insert or replace) with the timeline rows and fault
    /// changes it causes, in one batched write.
    pub async fn record_connector_status(
        &self,
        charger_id: &str,
        s: &ConnectorStatus,
        events: Vec<NewEvent>,
        faults: Vec<FaultChange>,
    ) -> Result<()> {
        let row = connector::ActiveModel {
            charger_id: Set(charger_id.to_owned()),
            evse_id: Set(s.evse_id),
            connector_id: Set(s.connector_id),
            status: Set(s.status.clone()),
            error_code: Set(s.error_code.clone()),
            info: Set(s.info.clone()),
            vendor_error_code: Set(s.vendor_error_code.clone()),
            updated_at: Set(s.at),
        };
        let charger_id = charger_id.to_owned();
        self.group
            .run(Box::new(move |txn| {
                let (row, charger_id, events, faults) =
                    (row.clone(), charger_id.clone(), events.clone(), faults.clone());
                Box::pin(async move {
                    connector::Entity::insert(row)
                        .on_conflict(
                            OnConflict::columns([
                                connector::Column::ChargerId,
                                connector::Column::EvseId,
                                connector::Column::ConnectorId,
                            ])
                            .update_columns([
                                connector::Column::Status,
                                connector::Column::ErrorCode,
                                connector::Column::Info,
                                connector::Column::VendorErrorCode,
                                connector::Column::UpdatedAt,
                            ])
                            .to_owned(),
                        )
                        .exec_without_returning(txn)
                        .await?;
                    super::events::write_events(txn, &charger_id, events, faults).await
                })
            }))
            .await?;
        Ok(())
    }
}

/// `SELECT id FROM charger WHERE <in the scope>`.
pub(super) fn charger_ids(scope: &Scope) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(charger::Column::Id)
        .from(charger::Entity)
        .cond_where(charger_scope(scope))
        .to_owned()
}

/// `col IN (ids)`, or every row without `ids`.
fn among(col: impl ColumnTrait, ids: Option<&[String]>) -> sea_orm::sea_query::SimpleExpr {
    match ids {
        Some(ids) => col.is_in(ids.iter().cloned()),
        None => sea_orm::sea_query::Expr::value(true),
    }
}

/// Chargers in the scope (home sites only where the grant is home chargers only).
fn charger_scope(scope: &Scope) -> Condition {
    scope_condition(
        scope,
        charger::Column::OrganisationId,
        Some(charger::Column::SiteId),
        None,
    )
}

/// What a charger update changes; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct ChargerChanges<'a> {
    /// Move to the organisation of this proof.
    pub move_to: Option<&'a Authorized<cap::ChargersWrite>>,
    pub site_id: Option<Option<i32>>,
    pub password_hash: Option<String>,
    pub security_profile: Option<Option<u8>>,
    /// Whether it keeps a local list (`None` inside: as its site says).
    pub local_list: Option<Option<bool>>,
}

/// A new charger's own fields.
#[derive(Debug, Default)]
pub struct NewChargerFields {
    pub site_id: Option<i32>,
    pub password_hash: Option<String>,
    pub security_profile: Option<u8>,
    pub local_list: Option<bool>,
}
