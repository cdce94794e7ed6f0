//! Campaigns and their per-charger steps. Every change of a step names the state it expects
//! the step to be in, so two runners (a lease taken over from a process that was only slow)
//! can never both send one charger its command.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::values::{CampaignState, CampaignStepState, EventKind};
use entity::{campaign, campaign_charger, charger, charger_event};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::Value;

use super::scope::{Page, scope_condition};
use super::{Result, Store};
use crate::access::{CommandProof, Scope};

/// Which chargers of a scope a campaign is for; `None` matches any.
#[derive(Debug, Clone, Default)]
pub struct ChargerFilter {
    pub site_id: Option<i32>,
    pub charger_ids: Option<Vec<String>>,
    pub vendor: Option<String>,
    pub model: Option<String>,
    pub firmware_version: Option<String>,
    pub ocpp_version: Option<String>,
}

/// A campaign as it is created.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    pub name: String,
    pub created_by: i32,
    pub command: Value,
    pub target: Value,
    pub concurrency: i32,
    pub max_failure_ratio: f64,
    pub deadline: Option<DateTime<Utc>>,
}

/// How a step ended (or got as far as installing).
#[derive(Debug, Clone, Default)]
pub struct StepOutcome {
    pub audit_id: Option<i64>,
    pub answer: Option<String>,
    pub status_info: Option<String>,
    pub detail: Option<String>,
}

/// Steps per campaign and state.
pub type StepCounts = HashMap<CampaignStepState, u64>;

impl Store {
    /// The chargers in `scope` that match `f`, by id; at most `limit`.
    pub async fn campaign_chargers(&self, scope: &Scope, f: &ChargerFilter, limit: u64) -> Result<Vec<charger::Model>> {
        let mut cond = Condition::all().add(scope_condition(
            scope,
            charger::Column::OrganisationId,
            Some(charger::Column::SiteId),
            None,
        ));
        if let Some(site) = f.site_id {
            cond = cond.add(charger::Column::SiteId.eq(site));
        }
        if let Some(ids) = &f.charger_ids {
            cond = cond.add(charger::Column::Id.is_in(ids.iter().cloned()));
        }
        for (col, want) in [
            (charger::Column::Vendor, &f.vendor),
            (charger::Column::Model, &f.model),
            (charger::Column::FirmwareVersion, &f.firmware_version),
            (charger::Column::OcppVersion, &f.ocpp_version),
        ] {
            if let Some(v) = want {
                cond = cond.add(col.eq(v.as_str()));
            }
        }
        Ok(charger::Entity::find()
            .filter(cond)
            .order_by_asc(charger::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Creates a campaign in the organisation `auth` was granted on, one queued step per
    /// charger, in one transaction.
    pub async fn create_campaign(
        &self,
        auth: &CommandProof,
        new: NewCampaign,
        charger_ids: &[String],
    ) -> Result<campaign::Model> {
        let now = Utc::now();
        let txn = self.begin_write().await?;
        let created = campaign::ActiveModel {
            name: Set(new.name),
            organisation_id: Set(auth.organisation_id()),
            created_by: Set(new.created_by),
            command: Set(new.command),
            target: Set(new.target),
            concurrency: Set(new.concurrency),
            max_failure_ratio: Set(new.max_failure_ratio),
            deadline: Set(new.deadline),
            state: Set(CampaignState::Running),
            reason: Set(None),
            baseline_finished: Set(0),
            baseline_failed: Set(0),
            runner: Set(None),
            lease_until: Set(None),
            created_at: Set(now),
            updated_at: Set(now),
            finished_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for chunk in charger_ids.chunks(500) {
            let rows = chunk.iter().map(|id| campaign_charger::ActiveModel {
                campaign_id: Set(created.id),
                charger_id: Set(id.clone()),
                state: Set(CampaignStepState::Queued),
                audit_id: Set(None),
                answer: Set(None),
                status_info: Set(None),
                detail: Set(None),
                started_at: Set(None),
                updated_at: Set(now),
            });
            campaign_charger::Entity::insert_many(rows).exec(&txn).await?;
        }
        txn.commit().await?;
        Ok(created)
    }

    /// A campaign by id.
    pub async fn campaign(&self, id: i32) -> Result<Option<campaign::Model>> {
        Ok(campaign::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Campaigns of organisations in the scope, newest first.
    pub async fn campaigns_in(&self, scope: &Scope, page: Page) -> Result<Vec<campaign::Model>> {
        Ok(campaign::Entity::find()
            .filter(scope_condition(scope, campaign::Column::OrganisationId, None, None))
            .order_by_desc(campaign::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// How many steps of each campaign are in each state.
    pub async fn campaign_counts(&self, ids: &[i32]) -> Result<HashMap<i32, StepCounts>> {
        let rows: Vec<(i32, CampaignStepState, i64)> = campaign_charger::Entity::find()
            .select_only()
            .column(campaign_charger::Column::CampaignId)
            .column(campaign_charger::Column::State)
            .column_as(campaign_charger::Column::ChargerId.count(), "n")
            .filter(campaign_charger::Column::CampaignId.is_in(ids.iter().copied()))
            .group_by(campaign_charger::Column::CampaignId)
            .group_by(campaign_charger::Column::State)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut counts: HashMap<i32, StepCounts> = HashMap::new();
        for (id, state, n) in rows {
            counts
                .entry(id)
                .or_default()
                .insert(state, u64::try_from(n).unwrap_or(0));
        }
        Ok(counts)
    }

    /// One page of a campaign's steps, by charger id.
    pub async fn campaign_steps(&self, id: i32, page: Page) -> Result<Vec<campaign_charger::Model>> {
        Ok(campaign_charger::Entity::find()
            .filter(campaign_charger::Column::CampaignId.eq(id))
            .order_by_asc(campaign_charger::Column::ChargerId)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// A person pauses, resumes or cancels a campaign of the organisation `auth` is for.
    /// Resuming counts the failure ratio afresh; cancelling ends the steps not yet sent.
    /// `None` if the campaign had already ended.
    pub async fn steer_campaign(
        &self,
        auth: &CommandProof,
        c: &campaign::Model,
        to: CampaignState,
    ) -> Result<Option<campaign::Model>> {
        auth.ensure(c.organisation_id)?;
        let now = Utc::now();
        let txn = self.begin_write().await?;
        let mut set = campaign::ActiveModel {
            state: Set(to),
            reason: Set(None),
            updated_at: Set(now),
            ..Default::default()
        };
        if to == CampaignState::Running {
            let counts = self.campaign_counts(&[c.id]).await?.remove(&c.id).unwrap_or_default();
            let (finished, failed) = finished_and_failed(&counts);
            set.baseline_finished = Set(i32::try_from(finished).unwrap_or(i32::MAX));
            set.baseline_failed = Set(i32::try_from(failed).unwrap_or(i32::MAX));
        }
        if to == CampaignState::Cancelled {
            set.finished_at = Set(Some(now));
        }
        let changed = campaign::Entity::update_many()
            .set(set)
            .filter(campaign::Column::Id.eq(c.id))
            .filter(campaign::Column::State.is_in([CampaignState::Running, CampaignState::Paused]))
            .exec(&txn)
            .await?;
        if changed.rows_affected == 0 {
            return Ok(None);
        }
        if to == CampaignState::Cancelled {
            end_steps(
                &txn,
                c.id,
                CampaignStepState::Queued,
                CampaignStepState::Cancelled,
                None,
            )
            .await?;
        }
        txn.commit().await?;
        self.campaign(c.id).await
    }

    /// Takes (or keeps) the lease on every running campaign no live runner holds, for
    /// `runner` until `until`; returns the campaigns `runner` now runs.
    pub async fn lease_campaigns(&self, runner: &str, until: DateTime<Utc>) -> Result<Vec<campaign::Model>> {
        let now = Utc::now();
        campaign::Entity::update_many()
            .col_expr(campaign::Column::Runner, Expr::value(runner))
            .col_expr(campaign::Column::LeaseUntil, Expr::value(until))
            .filter(campaign::Column::State.eq(CampaignState::Running))
            .filter(
                Condition::any()
                    .add(campaign::Column::Runner.is_null())
                    .add(campaign::Column::Runner.eq(runner))
                    .add(campaign::Column::LeaseUntil.lt(now)),
            )
            .exec(&self.db)
            .await?;
        Ok(campaign::Entity::find()
            .filter(campaign::Column::State.eq(CampaignState::Running))
            .filter(campaign::Column::Runner.eq(runner))
            .order_by_asc(campaign::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Gives up `runner`'s leases (a node shutting down), so another takes them at once.
    pub async fn release_campaigns(&self, runner: &str) -> Result<()> {
        campaign::Entity::update_many()
            .col_expr(campaign::Column::Runner, Expr::value(Option::<String>::None))
            .col_expr(campaign::Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(campaign::Column::Runner.eq(runner))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The runner's own end of a campaign (done, or paused at its failure ratio); only a
    /// running campaign changes.
    pub async fn settle_campaign(&self, id: i32, to: CampaignState, reason: Option<String>) -> Result<bool> {
        let now = Utc::now();
        let changed = campaign::Entity::update_many()
            .set(campaign::ActiveModel {
                state: Set(to),
                reason: Set(reason),
                updated_at: Set(now),
                finished_at: Set((to == CampaignState::Done).then_some(now)),
                ..Default::default()
            })
            .filter(campaign::Column::Id.eq(id))
            .filter(campaign::Column::State.eq(CampaignState::Running))
            .exec(&self.db)
            .await?;
        Ok(changed.rows_affected > 0)
    }

    /// Up to `limit` charger ids of a campaign's steps in `state`, by id after `after`.
    pub async fn campaign_steps_in(
        &self,
        id: i32,
        state: CampaignStepState,
        after: Option<&str>,
        limit: u64,
    ) -> Result<Vec<String>> {
        let mut query = campaign_charger::Entity::find()
            .select_only()
            .column(campaign_charger::Column::ChargerId)
            .filter(campaign_charger::Column::CampaignId.eq(id))
            .filter(campaign_charger::Column::State.eq(state));
        if let Some(after) = after {
            query = query.filter(campaign_charger::Column::ChargerId.gt(after));
        }
        Ok(query
            .order_by_asc(campaign_charger::Column::ChargerId)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// A campaign's steps waiting for their firmware to be installed.
    pub async fn installing_steps(&self, id: i32) -> Result<Vec<campaign_charger::Model>> {
        Ok(campaign_charger::Entity::find()
            .filter(campaign_charger::Column::CampaignId.eq(id))
            .filter(campaign_charger::Column::State.eq(CampaignStepState::Installing))
            .all(&self.db)
            .await?)
    }

    /// Moves one step from `from` to `to`, with what is known of its outcome; false if it
    /// was no longer in `from` (someone else moved it first).
    pub async fn move_step(
        &self,
        campaign_id: i32,
        charger_id: &str,
        from: CampaignStepState,
        to: CampaignStepState,
        outcome: Option<StepOutcome>,
    ) -> Result<bool> {
        let now = Utc::now();
        let mut set = campaign_charger::ActiveModel {
            state: Set(to),
            updated_at: Set(now),
            ..Default::default()
        };
        if to == CampaignStepState::Sending {
            set.started_at = Set(Some(now));
        }
        if let Some(o) = outcome {
            if o.audit_id.is_some() {
                set.audit_id = Set(o.audit_id);
            }
            set.answer = Set(o.answer);
            set.status_info = Set(o.status_info);
            set.detail = Set(o.detail);
        }
        let changed = campaign_charger::Entity::update_many()
            .set(set)
            .filter(campaign_charger::Column::CampaignId.eq(campaign_id))
            .filter(campaign_charger::Column::ChargerId.eq(charger_id))
            .filter(campaign_charger::Column::State.eq(from))
            .exec(&self.db)
            .await?;
        Ok(changed.rows_affected > 0)
    }

    /// Moves every step of a campaign in `from` to `to` with `detail`; how many moved.
    pub async fn move_steps(
        &self,
        campaign_id: i32,
        from: CampaignStepState,
        to: CampaignStepState,
        detail: &str,
    ) -> Result<u64> {
        end_steps(&self.db, campaign_id, from, to, Some(detail)).await
    }

    /// The firmware statuses the chargers sent after the commands of `audit_ids`, oldest
    /// first: (audit id, status).
    pub async fn firmware_statuses(&self, charger_ids: &[String], audit_ids: &[i64]) -> Result<Vec<(i64, String)>> {
        let rows: Vec<(Option<i64>, String)> = charger_event::Entity::find()
            .select_only()
            .column(charger_event::Column::AuditId)
            .column(charger_event::Column::Status)
            .filter(charger_event::Column::ChargerId.is_in(charger_ids.iter().cloned()))
            .filter(charger_event::Column::AuditId.is_in(audit_ids.iter().copied()))
            .filter(charger_event::Column::Kind.eq(EventKind::Firmware))
            .order_by_asc(charger_event::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().filter_map(|(a, s)| Some((a?, s))).collect())
    }
}

/// Steps the chargers ended, and those of them that failed: what the failure ratio is made
/// of. An interrupted step is voltgate's stop, not the charger's failure.
pub fn finished_and_failed(counts: &StepCounts) -> (u64, u64) {
    let of = |s| counts.get(&s).copied().unwrap_or(0);
    let failed = of(CampaignStepState::Failed);
    (of(CampaignStepState::Succeeded) + failed, failed)
}

async fn end_steps(
    db: &impl sea_orm::ConnectionTrait,
    campaign_id: i32,
    from: CampaignStepState,
    to: CampaignStepState,
    detail: Option<&str>,
) -> Result<u64> {
    let mut set = campaign_charger::ActiveModel {
        state: Set(to),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(d) = detail {
        set.detail = Set(Some(d.to_owned()));
    }
    Ok(campaign_charger::Entity::update_many()
        .set(set)
        .filter(campaign_charger::Column::CampaignId.eq(campaign_id))
        .filter(campaign_charger::Column::State.eq(from))
        .exec(db)
        .await?
        .rows_affected)
}
