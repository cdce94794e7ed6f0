//! Webhooks, their deliveries and the incidents each has announced, and the reads the alert
//! watcher makes over a webhook's subtree.

use chrono::{DateTime, Utc};
use entity::values::{CampaignState, DeliveryState, EventKind, IncidentKind};
use entity::{alert_incident, campaign, charger, charger_event, charger_fault, webhook, webhook_delivery};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::scope::{Page, in_subtree, scope_condition};
use super::{Result, Store};
use crate::access::{Authorized, Scope, cap};

/// A webhook as it is created.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub secret: String,
    pub events: Value,
    pub offline_after_s: i32,
    pub created_by: Option<i32>,
}

/// An event to send one webhook.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub webhook_id: i32,
    pub event: String,
    pub dedupe_key: String,
    pub charger_id: Option<String>,
    pub body: String,
}

/// How one attempt at a delivery went.
#[derive(Debug, Clone)]
pub enum Attempt {
    Delivered {
        status: i32,
    },
    /// Tried again at `next`, or given up when `next` is `None`.
    Failed {
        status: Option<i32>,
        error: String,
        next: Option<DateTime<Utc>>,
    },
}

impl Store {
    /// Creates a webhook on the organisation `auth` was granted on. It hears of what happens
    /// from now on: its cursors start at the present.
    pub async fn create_webhook(
        &self,
        auth: &Authorized<cap::WebhooksManage>,
        w: NewWebhook,
    ) -> Result<webhook::Model> {
        self.insert_sink(auth.organisation_id(), None, w).await
    }

    /// Subscribes the user (whose proof `auth` is) to the alerts of the organisation it was
    /// granted on, by e-mail.
    pub async fn create_subscription(
        &self,
        auth: &Authorized<cap::ChargersRead>,
        user_id: i32,
        w: NewWebhook,
    ) -> Result<webhook::Model> {
        self.insert_sink(auth.organisation_id(), Some(user_id), w).await
    }

    async fn insert_sink(
        &self,
        organisation_id: i32,
        subscriber_id: Option<i32>,
        w: NewWebhook,
    ) -> Result<webhook::Model> {
        let last_event: Option<i64> = charger_event::Entity::find()
            .select_only()
            .column_as(charger_event::Column::Id.max(), "m")
            .into_tuple()
            .one(&self.db)
            .await?
            .flatten();
        let now = Utc::now();
        Ok(webhook::ActiveModel {
            organisation_id: Set(organisation_id),
            url: Set(w.url),
            subscriber_id: Set(subscriber_id),
            secret: Set(w.secret),
            events: Set(w.events),
            offline_after_s: Set(w.offline_after_s),
            created_by: Set(w.created_by),
            event_cursor: Set(last_event.unwrap_or(0)),
            campaign_cursor: Set(now),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await?)
    }

    /// A webhook or subscription by id.
    pub async fn webhook(&self, id: i32) -> Result<Option<webhook::Model>> {
        Ok(webhook::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Webhooks (not subscriptions) of organisations in the scope.
    pub async fn webhooks_in(&self, scope: &Scope, page: Page) -> Result<Vec<webhook::Model>> {
        Ok(webhook::Entity::find()
            .filter(scope_condition(scope, webhook::Column::OrganisationId, None, None))
            .filter(webhook::Column::SubscriberId.is_null())
            .order_by_asc(webhook::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// A user's own e-mail subscriptions.
    pub async fn subscriptions_of(&self, user_id: i32) -> Result<Vec<webhook::Model>> {
        Ok(webhook::Entity::find()
            .filter(webhook::Column::SubscriberId.eq(user_id))
            .order_by_asc(webhook::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Every webhook and subscription (the watcher's round).
    pub async fn all_webhooks(&self) -> Result<Vec<webhook::Model>> {
        Ok(webhook::Entity::find()
            .order_by_asc(webhook::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Deletes a webhook with its deliveries and incidents.
    pub async fn delete_webhook(&self, auth: &Authorized<cap::WebhooksManage>, w: &webhook::Model) -> Result<()> {
        auth.ensure(w.organisation_id)?;
        self.delete_sinks(webhook::Column::Id.eq(w.id)).await
    }

    /// Ends one of the user's subscriptions; `false` when the user has none by that id.
    pub async fn delete_subscription(&self, user_id: i32, id: i32) -> Result<bool> {
        let mine = webhook::Column::Id
            .eq(id)
            .and(webhook::Column::SubscriberId.eq(user_id));
        let found = webhook::Entity::find().filter(mine.clone()).one(&self.db).await?;
        if found.is_some() {
            self.delete_sinks(mine).await?;
        }
        Ok(found.is_some())
    }

    /// Deletes the webhooks and subscriptions matching `which`, with what hangs off them.
    pub(super) async fn delete_sinks(&self, which: sea_orm::sea_query::SimpleExpr) -> Result<()> {
        let ids = Query::select()
            .column(webhook::Column::Id)
            .from(webhook::Entity)
            .cond_where(which.clone())
            .to_owned();
        let txn = self.begin_write().await?;
        alert_incident::Entity::delete_many()
            .filter(alert_incident::Column::WebhookId.in_subquery(ids.clone()))
            .exec(&txn)
            .await?;
        webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::WebhookId.in_subquery(ids))
            .exec(&txn)
            .await?;
        webhook::Entity::delete_many().filter(which).exec(&txn).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Moves a webhook's cursors on.
    pub async fn advance_webhook(&self, id: i32, event_cursor: i64, campaign_cursor: DateTime<Utc>) -> Result<()> {
        webhook::Entity::update_many()
            .col_expr(webhook::Column::EventCursor, Expr::value(event_cursor))
            .col_expr(webhook::Column::CampaignCursor, Expr::value(campaign_cursor))
            .filter(webhook::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// A webhook's deliveries, newest first.
    pub async fn webhook_deliveries(&self, webhook_id: i32, page: Page) -> Result<Vec<webhook_delivery::Model>> {
        Ok(webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::WebhookId.eq(webhook_id))
            .order_by_desc(webhook_delivery::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// Queues a delivery; false if the same one (webhook and dedupe key) was queued before.
    pub async fn queue_delivery(&self, d: NewDelivery) -> Result<bool> {
        let now = Utc::now();
        let row = webhook_delivery::ActiveModel {
            webhook_id: Set(d.webhook_id),
            event: Set(d.event),
            dedupe_key: Set(d.dedupe_key),
            charger_id: Set(d.charger_id),
            body: Set(d.body),
            state: Set(DeliveryState::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            claimed_until: Set(None),
            last_status: Set(None),
            last_error: Set(None),
            created_at: Set(now),
            delivered_at: Set(None),
            ..Default::default()
        };
        let inserted = webhook_delivery::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([webhook_delivery::Column::WebhookId, webhook_delivery::Column::DedupeKey])
                    .do_nothing()
                    .to_owned(),
            )
            .do_nothing()
            .exec(&self.db)
            .await?;
        Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(_)))
    }

    /// Up to `limit` deliveries due now, each claimed until `until` so no other sender takes
    /// it meanwhile.
    pub async fn claim_deliveries(&self, until: DateTime<Utc>, limit: u64) -> Result<Vec<webhook_delivery::Model>> {
        let now = Utc::now();
        let free = || {
            Condition::any()
                .add(webhook_delivery::Column::ClaimedUntil.is_null())
                .add(webhook_delivery::Column::ClaimedUntil.lt(now))
        };
        let due = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::State.eq(DeliveryState::Pending))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .filter(free())
            .order_by_asc(webhook_delivery::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let mut claimed = Vec::with_capacity(due.len());
        for d in due {
            let taken = webhook_delivery::Entity::update_many()
                .col_expr(webhook_delivery::Column::ClaimedUntil, Expr::value(until))
                .filter(webhook_delivery::Column::Id.eq(d.id))
                .filter(free())
                .exec(&self.db)
                .await?;
            if taken.rows_affected == 1 {
                claimed.push(d);
            }
        }
        Ok(claimed)
    }

    /// Records an attempt at a delivery.
    pub async fn delivery_attempted(&self, d: &webhook_delivery::Model, attempt: Attempt) -> Result<()> {
        let mut set = webhook_delivery::ActiveModel {
            attempts: Set(d.attempts + 1),
            claimed_until: Set(None),
            ..Default::default()
        };
        match attempt {
            Attempt::Delivered { status } => {
                set.state = Set(DeliveryState::Delivered);
                set.last_status = Set(Some(status));
                set.last_error = Set(None);
                set.delivered_at = Set(Some(Utc::now()));
            }
            Attempt::Failed { status, error, next } => {
                set.last_status = Set(status);
                set.last_error = Set(Some(error));
                match next {
                    Some(at) => set.next_attempt_at = Set(at),
                    None => set.state = Set(DeliveryState::Failed),
                }
            }
        }
        webhook_delivery::Entity::update_many()
            .set(set)
            .filter(webhook_delivery::Column::Id.eq(d.id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The incidents of `kind` a webhook has announced and not resolved.
    pub async fn incidents(&self, webhook_id: i32, kind: IncidentKind) -> Result<Vec<alert_incident::Model>> {
        Ok(alert_incident::Entity::find()
            .filter(alert_incident::Column::WebhookId.eq(webhook_id))
            .filter(alert_incident::Column::Kind.eq(kind))
            .all(&self.db)
            .await?)
    }

    /// Notes an incident as announced; false if it already was (by this or another node).
    pub async fn open_incident(
        &self,
        webhook_id: i32,
        charger_id: &str,
        kind: IncidentKind,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let row = alert_incident::ActiveModel {
            webhook_id: Set(webhook_id),
            charger_id: Set(charger_id.to_owned()),
            kind: Set(kind),
            opened_at: Set(at),
        };
        let inserted = alert_incident::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    alert_incident::Column::WebhookId,
                    alert_incident::Column::ChargerId,
                    alert_incident::Column::Kind,
                ])
                .do_nothing()
                .to_owned(),
            )
            .do_nothing()
            .exec(&self.db)
            .await?;
        Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(_)))
    }

    /// Ends an incident; false if another node ended it first.
    pub async fn close_incident(&self, webhook_id: i32, charger_id: &str, kind: IncidentKind) -> Result<bool> {
        let gone = alert_incident::Entity::delete_many()
            .filter(alert_incident::Column::WebhookId.eq(webhook_id))
            .filter(alert_incident::Column::ChargerId.eq(charger_id))
            .filter(alert_incident::Column::Kind.eq(kind))
            .exec(&self.db)
            .await?;
        Ok(gone.rows_affected > 0)
    }

    /// Chargers under `path` last seen before `cutoff` (ever seen) that a webhook has not
    /// announced offline: (id, organisation, last seen).
    pub async fn quiet_chargers(
        &self,
        path: &str,
        cutoff: DateTime<Utc>,
        webhook_id: i32,
    ) -> Result<Vec<(String, Option<i32>, Option<DateTime<Utc>>)>> {
        let announced = Query::select()
            .column(alert_incident::Column::ChargerId)
            .from(alert_incident::Entity)
            .and_where(alert_incident::Column::WebhookId.eq(webhook_id))
            .and_where(alert_incident::Column::Kind.eq(IncidentKind::Offline))
            .to_owned();
        Ok(charger::Entity::find()
            .select_only()
            .columns([
                charger::Column::Id,
                charger::Column::OrganisationId,
                charger::Column::LastSeenAt,
            ])
            .filter(in_subtree(charger::Column::OrganisationId, path))
            .filter(charger::Column::LastSeenAt.lt(cutoff))
            .filter(charger::Column::Id.not_in_subquery(announced))
            .limit(10_000)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// The open faults of chargers under `path`.
    pub async fn faults_under(&self, path: &str) -> Result<Vec<charger_fault::Model>> {
        Ok(charger_fault::Entity::find()
            .filter(charger_fault::Column::ChargerId.in_subquery(chargers_under(path)))
            .order_by_asc(charger_fault::Column::Id)
            .limit(10_000)
            .all(&self.db)
            .await?)
    }

    /// Timeline rows after `cursor` of chargers under `path` that alerts are made of: critical
    /// security events and firmware statuses among `firmware_failed`.
    pub async fn alerting_events(
        &self,
        path: &str,
        cursor: i64,
        firmware_failed: &[&str],
    ) -> Result<Vec<charger_event::Model>> {
        Ok(charger_event::Entity::find()
            .filter(charger_event::Column::Id.gt(cursor))
            .filter(charger_event::Column::ChargerId.in_subquery(chargers_under(path)))
            .filter(
                Condition::any().add(charger_event::Column::Critical.eq(true)).add(
                    Condition::all()
                        .add(charger_event::Column::Kind.eq(EventKind::Firmware))
                        .add(charger_event::Column::Status.is_in(firmware_failed.iter().copied())),
                ),
            )
            .order_by_asc(charger_event::Column::Id)
            .limit(500)
            .all(&self.db)
            .await?)
    }

    /// The newest timeline row's id (what a watcher that found nothing moves its cursor to).
    pub async fn last_event_id(&self) -> Result<i64> {
        let last: Option<i64> = charger_event::Entity::find()
            .select_only()
            .column_as(charger_event::Column::Id.max(), "m")
            .into_tuple()
            .one(&self.db)
            .await?
            .flatten();
        Ok(last.unwrap_or(0))
    }

    /// Campaigns under `path` that ended or paused themselves after `since`, oldest first.
    pub async fn campaigns_settled(&self, path: &str, since: DateTime<Utc>) -> Result<Vec<campaign::Model>> {
        Ok(campaign::Entity::find()
            .filter(in_subtree(campaign::Column::OrganisationId, path))
            .filter(campaign::Column::UpdatedAt.gt(since))
            .filter(
                Condition::any()
                    .add(campaign::Column::State.eq(CampaignState::Done))
                    .add(
                        Condition::all()
                            .add(campaign::Column::State.eq(CampaignState::Paused))
                            .add(campaign::Column::Reason.is_not_null()),
                    ),
            )
            .order_by_asc(campaign::Column::UpdatedAt)
            .limit(500)
            .all(&self.db)
            .await?)
    }
}

/// `SELECT id FROM charger WHERE organisation_id IN (the subtree of path)`.
fn chargers_under(path: &str) -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .column(charger::Column::Id)
        .from(charger::Entity)
        .and_where(in_subtree(charger::Column::OrganisationId, path))
        .to_owned()
}
