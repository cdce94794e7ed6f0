//! A charger's timeline (`charger_event`) and the problems still open on it
//! (`charger_fault`). Station handlers describe what a message said as [`NewEvent`]s and
//! [`FaultChange`]s; both land in one batched write, so a notification storm costs one commit
//! per batch and a fault never exists without the event that opened it.

use chrono::{DateTime, Utc};
use entity::values::EventKind;
use entity::{charger, charger_event, charger_fault};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::chargers::charger_ids;
use super::scope::Page;
use super::{Error, Result, Store};
use crate::access::{Authorized, Scope, cap};

/// A job whose statuses point back at the command that started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    Firmware,
    Diagnostics,
}

impl Progress {
    fn kind(self) -> EventKind {
        match self {
            Progress::Firmware => EventKind::Firmware,
            Progress::Diagnostics => EventKind::Diagnostics,
        }
    }
}

/// One row for a charger's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub status: String,
    pub at: DateTime<Utc>,
    pub request_id: Option<i32>,
    pub evse_id: Option<i32>,
    pub connector_id: Option<i32>,
    pub component: Option<String>,
    pub variable: Option<String>,
    pub critical: bool,
    pub detail: Option<serde_json::Value>,
}

impl NewEvent {
    /// An event with nothing but its kind, gist and time.
    pub fn new(kind: EventKind, status: impl Into<String>, at: DateTime<Utc>) -> Self {
        Self {
            kind,
            status: status.into(),
            at,
            request_id: None,
            evse_id: None,
            connector_id: None,
            component: None,
            variable: None,
            critical: false,
            detail: None,
        }
    }
}

/// Where a fault is and what it is about; one open fault per place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultPlace {
    /// 0 for the charger itself.
    pub evse_id: i32,
    /// 0 for the whole EVSE.
    pub connector_id: i32,
    /// `status`, or the 2.0.1 `component/variable` that reported it.
    pub key: String,
}

/// What an event does to the charger's open faults.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultChange {
    /// Opens the fault, or refreshes the one open at that place; `event` is the index of the
    /// event (in the same write) that reported it.
    Open {
        place: FaultPlace,
        code: String,
        info: Option<String>,
        event: usize,
    },
    /// The problem at that place is gone; `event` goes on the timeline if one was open.
    Clear { place: FaultPlace, event: Option<NewEvent> },
}

/// Which timeline rows to list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only these kinds; empty for all.
    pub kinds: Vec<EventKind>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

impl Store {
    /// Remembers which audit row a firmware or diagnostics request belongs to, so the
    /// statuses that follow can point back at it (1.6 statuses carry no request id).
    pub async fn link_command(&self, charger_id: &str, kind: Progress, audit_id: i64) -> Result<()> {
        let mut set = <charger::ActiveModel as Default>::default();
        match kind {
            Progress::Firmware => set.firmware_audit_id = Set(Some(audit_id)),
            Progress::Diagnostics => set.diagnostics_audit_id = Set(Some(audit_id)),
        }
        charger::Entity::update_many()
            .set(set)
            .filter(charger::Column::Id.eq(charger_id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Stores a firmware or diagnostics status: the charger's latest, and the timeline row
    /// linked to the command's audit row (the request id when the charger sent one).
    pub async fn record_progress(
        &self,
        charger_id: &str,
        kind: Progress,
        status: &str,
        request_id: Option<i32>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let txn = self.begin_write().await?;
        let Some(c) = charger::Entity::find_by_id(charger_id).one(&txn).await? else {
            return Err(Error::NotFound(format!("charger {charger_id}")));
        };
        let linked = match kind {
            Progress::Firmware => c.firmware_audit_id,
            Progress::Diagnostics => c.diagnostics_audit_id,
        };
        charger_event::ActiveModel {
            request_id: Set(request_id),
            audit_id: Set(request_id.map(i64::from).or(linked)),
            ..active(charger_id, NewEvent::new(kind.kind(), status, at))
        }
        .insert(&txn)
        .await?;
        let mut set = <charger::ActiveModel as Default>::default();
        match kind {
            Progress::Firmware => {
                set.firmware_status = Set(Some(status.to_owned()));
                set.firmware_status_at = Set(Some(at));
            }
            Progress::Diagnostics => {
                set.diagnostics_status = Set(Some(status.to_owned()));
                set.diagnostics_status_at = Set(Some(at));
            }
        }
        charger::Entity::update_many()
            .set(set)
            .filter(charger::Column::Id.eq(charger_id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Appends `events` to the charger's timeline and applies `faults`, in one batched write.
    pub async fn record_events(&self, charger_id: &str, events: Vec<NewEvent>, faults: Vec<FaultChange>) -> Result<()> {
        if events.is_empty() && faults.is_empty() {
            return Ok(());
        }
        let charger_id = charger_id.to_owned();
        self.group
            .run(Box::new(move |txn| {
                let (charger_id, events, faults) = (charger_id.clone(), events.clone(), faults.clone());
                Box::pin(async move { write_events(txn, &charger_id, events, faults).await })
            }))
            .await?;
        Ok(())
    }

    /// A charger's timeline, newest first; security events only with the proof that the
    /// caller may read them.
    pub async fn charger_events(
        &self,
        charger_id: &str,
        filter: &EventFilter,
        page: Page,
        security: Option<&Authorized<cap::SecurityEventsRead>>,
    ) -> Result<Vec<charger_event::Model>> {
        let mut query = charger_event::Entity::find().filter(charger_event::Column::ChargerId.eq(charger_id));
        if security.is_none() {
            query = query.filter(charger_event::Column::Kind.ne(EventKind::Security));
        }
        if !filter.kinds.is_empty() {
            query = query.filter(charger_event::Column::Kind.is_in(filter.kinds.iter().copied()));
        }
        if let Some(since) = filter.since {
            query = query.filter(charger_event::Column::At.gte(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(charger_event::Column::At.lt(until));
        }
        Ok(query
            .order_by_desc(charger_event::Column::At)
            .order_by_desc(charger_event::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// The open faults of several chargers, by charger and place.
    pub async fn faults_of(&self, charger_ids: &[String]) -> Result<Vec<charger_fault::Model>> {
        if charger_ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(charger_fault::Entity::find()
            .filter(charger_fault::Column::ChargerId.is_in(charger_ids.iter().cloned()))
            .order_by_asc(charger_fault::Column::ChargerId)
            .order_by_asc(charger_fault::Column::EvseId)
            .order_by_asc(charger_fault::Column::ConnectorId)
            .order_by_asc(charger_fault::Column::Key)
            .all(&self.db)
            .await?)
    }

    /// How many chargers in the scope have an open fault.
    pub async fn faulted_in(&self, scope: &Scope) -> Result<u64> {
        let n: Option<i64> = charger_fault::Entity::find()
            .select_only()
            .column_as(Expr::col(charger_fault::Column::ChargerId).count_distinct(), "n")
            .filter(charger_fault::Column::ChargerId.in_subquery(charger_ids(scope)))
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(n.unwrap_or(0).max(0) as u64)
    }
}

/// The timeline rows and fault changes of one message, inside a batched write.
pub(super) async fn write_events(
    txn: &DatabaseTransaction,
    charger_id: &str,
    events: Vec<NewEvent>,
    faults: Vec<FaultChange>,
) -> std::result::Result<(), DbErr> {
    let mut ids = Vec::with_capacity(events.len());
    for event in events {
        ids.push(active(charger_id, event).insert(txn).await?.id);
    }
    for change in faults {
        match change {
            FaultChange::Open {
                place,
                code,
                info,
                event,
            } => open_fault(txn, charger_id, place, code, info, ids.get(event).copied()).await?,
            FaultChange::Clear { place, event } => {
                let cleared = clear_fault(txn, charger_id, place).await?;
                if let Some(event) = event.filter(|_| cleared) {
                    active(charger_id, event).insert(txn).await?;
                }
            }
        }
    }
    Ok(())
}

/// Opens the fault at `place`, or refreshes the one open there (keeping when it opened).
async fn open_fault(
    txn: &DatabaseTransaction,
    charger_id: &str,
    place: FaultPlace,
    code: String,
    info: Option<String>,
    event_id: Option<i64>,
) -> std::result::Result<(), DbErr> {
    use charger_fault::Column as C;
    let row = charger_fault::ActiveModel {
        charger_id: Set(charger_id.to_owned()),
        evse_id: Set(place.evse_id),
        connector_id: Set(place.connector_id),
        key: Set(place.key),
        code: Set(code),
        info: Set(info),
        event_id: Set(event_id),
        opened_at: Set(Utc::now()),
        ..Default::default()
    };
    charger_fault::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([C::ChargerId, C::EvseId, C::ConnectorId, C::Key])
                .update_columns([C::Code, C::Info, C::EventId])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Closes the fault at `place`; whether one was open.
async fn clear_fault(
    txn: &DatabaseTransaction,
    charger_id: &str,
    place: FaultPlace,
) -> std::result::Result<bool, DbErr> {
    use charger_fault::Column as C;
    let cleared = charger_fault::Entity::delete_many()
        .filter(C::ChargerId.eq(charger_id))
        .filter(C::EvseId.eq(place.evse_id))
        .filter(C::ConnectorId.eq(place.connector_id))
        .filter(C::Key.eq(place.key))
        .exec(txn)
        .await?;
    Ok(cleared.rows_affected > 0)
}

fn active(charger_id: &str, e: NewEvent) -> charger_event::ActiveModel {
    charger_event::ActiveModel {
        charger_id: Set(charger_id.to_owned()),
        kind: Set(e.kind),
        status: Set(e.status),
        request_id: Set(e.request_id),
        at: Set(e.at),
        evse_id: Set(e.evse_id),
        connector_id: Set(e.connector_id),
        component: Set(e.component),
        variable: Set(e.variable),
        critical: Set(e.critical),
        detail: Set(e.detail),
        ..Default::default()
    }
}
