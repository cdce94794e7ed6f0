//! The campaign runner: one per process. Every tick it takes the lease on the running
//! campaigns no live runner holds (so a cluster runs each once and a dead node's campaigns
//! move on after its lease ends), ends what the deadline ended, follows firmware steps to
//! `Installed`, pauses a campaign past its failure ratio, and starts steps for online chargers
//! up to the campaign's concurrency.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::Utc;
use entity::campaign;
use entity::values::{CampaignState, CampaignStepState as S, LocalListState};
use tokio::task::{JoinHandle, JoinSet};
use tokio_util::sync::CancellationToken;

use super::{CampaignCommand, Error, Step, stored};
use crate::access::Principal;
use crate::commands::{self, CommandReply, ReplyStatus};
use crate::state::AppState;
use crate::store::{StepCounts, StepOutcome, finished_and_failed};

/// How often campaigns are looked at.
const TICK: Duration = Duration::from_secs(1);
/// How long a lease holds without being renewed: a runner that stopped is replaced after it.
const LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(20);
/// How long a step whose charger was not ready or busy waits before it is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(30);
/// How long a firmware step waits for `Installed` when the campaign has no deadline.
const FIRMWARE_WAIT: chrono::TimeDelta = chrono::TimeDelta::hours(24);
/// Queued steps read at once when looking for online chargers, and pages read per tick.
const LOOK_AHEAD: u64 = 2_000;
const PAGES_PER_TICK: usize = 5;

/// Starts this process's runner, until `shutdown`; the handle ends once its leases are given
/// up and its steps in flight have ended.
pub fn spawn(state: AppState, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut runner = Runner {
            id: format!(
                "{}-{}",
                state.config.cluster.node_id.as_deref().unwrap_or("node"),
                crate::crypto::random_hex(6)
            ),
            state,
            in_flight: HashSet::new(),
            looked_to: HashMap::new(),
            not_before: HashMap::new(),
            steps: JoinSet::new(),
        };
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            runner.reap();
            if let Err(e) = runner.tick().await {
                tracing::warn!(error = %e, "campaigns not advanced");
            }
        }
        while runner.steps.join_next().await.is_some() {}
        if let Err(e) = runner.state.store.release_campaigns(&runner.id).await {
            tracing::warn!(error = %e, "campaign leases not given up; they end by themselves");
        }
    })
}

/// A campaign's step for one charger.
type StepKey = (i32, String);

struct Runner {
    state: AppState,
    /// This process run's name in the lease column.
    id: String,
    /// Steps this run is sending now.
    in_flight: HashSet<StepKey>,
    /// Per campaign, the last queued charger looked at (the next tick goes on after it).
    looked_to: HashMap<i32, String>,
    /// Steps that found their charger not ready or busy wait until then before the next try
    /// (each try is an audit row).
    not_before: HashMap<StepKey, Instant>,
    /// The tasks sending them; each ends with its step and whether it went back to the queue.
    steps: JoinSet<(StepKey, bool)>,
}

impl Runner {
    /// Forgets the steps that ended.
    fn reap(&mut self) {
        while let Some(done) = self.steps.try_join_next() {
            let Ok((key, requeued)) = done else { continue };
            self.in_flight.remove(&key);
            if requeued {
                self.not_before.insert(key, Instant::now() + RETRY_AFTER);
            }
        }
        let now = Instant::now();
        self.not_before.retain(|_, t| *t > now);
    }

    async fn tick(&mut self) -> Result<(), Error> {
        let store = self.state.store.clone();
        let leased = store.lease_campaigns(&self.id, Utc::now() + LEASE).await?;
        let mut creators: HashMap<i32, Option<Principal>> = HashMap::new();
        for c in leased {
            let creator = match creators.get(&c.created_by) {
                Some(p) => p.clone(),
                None => {
                    let p = creator(&self.state, c.created_by).await?;
                    creators.insert(c.created_by, p.clone());
                    p
                }
            };
            if let Err(e) = self.advance(&c, creator).await {
                tracing::warn!(campaign = c.id, error = %e, "campaign not advanced");
            }
        }
        Ok(())
    }

    /// Steps left `sending` by no task of this run: sent by a runner that stopped (or whose
    /// outcome could not be stored). Whether the charger got it is unknown; it is not sent again.
    async fn interrupt_orphans(&self, c: &campaign::Model) -> Result<(), Error> {
        let store = &self.state.store;
        for charger_id in store.campaign_steps_in(c.id, S::Sending, None, LOOK_AHEAD).await? {
            if self.in_flight.contains(&(c.id, charger_id.clone())) {
                continue;
            }
            let outcome = StepOutcome {
                detail: Some("sent by a runner that stopped before the answer came".into()),
                ..Default::default()
            };
            if store
                .move_step(c.id, &charger_id, S::Sending, S::Interrupted, Some(outcome))
                .await?
            {
                tracing::warn!(campaign = c.id, charger = %charger_id, "campaign step interrupted");
            }
        }
        Ok(())
    }

    async fn advance(&mut self, c: &campaign::Model, creator: Option<Principal>) -> Result<(), Error> {
        let store = &self.state.store;
        let Some(creator) = creator else {
            let why = "its creator's account is disabled or gone".to_owned();
            store.settle_campaign(c.id, CampaignState::Paused, Some(why)).await?;
            return Ok(());
        };
        self.interrupt_orphans(c).await?;
        let command: CampaignCommand = stored(c.command.clone(), "command")?;
        let now = Utc::now();
        let past_deadline = c.deadline.is_some_and(|d| d <= now);
        if past_deadline {
            store
                .move_steps(
                    c.id,
                    S::Queued,
                    S::Expired,
                    "the charger was not reached before the deadline",
                )
                .await?;
        }
        if command.follows_firmware() {
            self.follow_firmware(c, past_deadline).await?;
        }
        let counts = store.campaign_counts(&[c.id]).await?.remove(&c.id).unwrap_or_default();
        let of = |s| counts.get(&s).copied().unwrap_or(0);
        let in_flight = of(S::Sending) + of(S::Installing);
        if of(S::Queued) + in_flight == 0 {
            let why = past_deadline.then(|| "deadline passed".to_owned());
            store.settle_campaign(c.id, CampaignState::Done, why).await?;
            return Ok(());
        }
        if self.paused_at_failure_ratio(c, &counts).await? {
            return Ok(());
        }
        let free = u64::try_from(c.concurrency).unwrap_or(0).saturating_sub(in_flight);
        if free == 0 || past_deadline {
            return Ok(());
        }
        let online = self.online_queued(c, free).await?;
        self.start_steps(c, &creator, &command, online, free).await
    }

    /// Pauses the campaign when more of its chargers failed since it started or resumed than
    /// its ratio allows; `true` if it is paused.
    async fn paused_at_failure_ratio(&self, c: &campaign::Model, counts: &StepCounts) -> Result<bool, Error> {
        let (finished, failed) = finished_and_failed(counts);
        let total: u64 = counts.values().sum();
        let since_finished = finished.saturating_sub(u64::try_from(c.baseline_finished).unwrap_or(0));
        let since_failed = failed.saturating_sub(u64::try_from(c.baseline_failed).unwrap_or(0));
        // A first failure among the first chargers is not yet a pattern: the ratio counts over
        // at least `concurrency` chargers (or all of a smaller campaign).
        let floor = u64::try_from(c.concurrency).unwrap_or(1).min(total).max(1);
        let window = since_finished.max(floor);
        if since_failed == 0 || since_failed as f64 / window as f64 <= c.max_failure_ratio {
            return Ok(false);
        }
        let why = format!(
            "{since_failed} of {since_finished} chargers failed since it started or resumed (counted over at \
             least {floor}): more than the {} allowed",
            c.max_failure_ratio
        );
        if self
            .state
            .store
            .settle_campaign(c.id, CampaignState::Paused, Some(why))
            .await?
        {
            tracing::warn!(
                campaign = c.id,
                since_failed,
                since_finished,
                "campaign paused at its failure ratio"
            );
        }
        Ok(true)
    }

    /// Up to about `free` queued chargers that are online now. A campaign whose first thousands
    /// of chargers are offline still reaches the online ones behind them: each tick goes on
    /// from where the last one stopped looking.
    async fn online_queued(&mut self, c: &campaign::Model, free: u64) -> Result<Vec<String>, Error> {
        let mut online = Vec::new();
        for _ in 0..PAGES_PER_TICK {
            let after = self.looked_to.get(&c.id).map(String::as_str);
            let page = self
                .state
                .store
                .campaign_steps_in(c.id, S::Queued, after, LOOK_AHEAD)
                .await?;
            match page.last() {
                Some(last) if page.len() as u64 == LOOK_AHEAD => self.looked_to.insert(c.id, last.clone()),
                _ => self.looked_to.remove(&c.id),
            };
            let end = (page.len() as u64) < LOOK_AHEAD;
            online.extend(page.into_iter().filter(|id| self.state.fleet.is_online(id)));
            if end || online.len() as u64 >= free {
                break;
            }
        }
        Ok(online)
    }

    /// Sends the step to at most `free` of `online`, each in its own task, as the creator.
    async fn start_steps(
        &mut self,
        c: &campaign::Model,
        creator: &Principal,
        command: &CampaignCommand,
        online: Vec<String>,
        free: u64,
    ) -> Result<(), Error> {
        let step = command.step();
        let follows = command.follows_firmware();
        let soon = Instant::now();
        let mut started = 0;
        for charger_id in online {
            if started == free {
                break;
            }
            let key = (c.id, charger_id);
            if self.not_before.get(&key).is_some_and(|t| *t > soon) {
                continue;
            }
            if !self
                .state
                .store
                .move_step(c.id, &key.1, S::Queued, S::Sending, None)
                .await?
            {
                continue;
            }
            started += 1;
            self.in_flight.insert(key.clone());
            let (state, p, step) = (self.state.clone(), creator.clone(), step.clone());
            self.steps.spawn(async move {
                let (campaign_id, charger_id) = &key;
                let (to, outcome) = send(&state, &p, charger_id, step, follows).await;
                let store = &state.store;
                if let Err(e) = store.move_step(*campaign_id, charger_id, S::Sending, to, outcome).await {
                    tracing::error!(campaign = campaign_id, charger = %charger_id, error = %e, "a campaign step's outcome was not stored");
                }
                (key, to == S::Queued)
            });
        }
        Ok(())
    }

    /// Ends firmware steps whose charger reported `Installed` or a failure, and those that
    /// waited too long.
    async fn follow_firmware(&self, c: &campaign::Model, past_deadline: bool) -> Result<(), Error> {
        let store = &self.state.store;
        let waiting = store.installing_steps(c.id).await?;
        if waiting.is_empty() {
            return Ok(());
        }
        let chargers: Vec<String> = waiting.iter().map(|s| s.charger_id.clone()).collect();
        let audits: Vec<i64> = waiting.iter().filter_map(|s| s.audit_id).collect();
        let mut last: HashMap<i64, String> = HashMap::new();
        let mut ended: HashMap<i64, String> = HashMap::new();
        for (audit_id, status) in store.firmware_statuses(&chargers, &audits).await? {
            if status == "Installed" || crate::ocpp::FIRMWARE_FAILED.contains(&status.as_str()) {
                ended.entry(audit_id).or_insert_with(|| status.clone());
            }
            last.insert(audit_id, status);
        }
        let now = Utc::now();
        for s in waiting {
            let Some(audit_id) = s.audit_id else { continue };
            let outcome = |detail: Option<&str>, answer: Option<&String>| StepOutcome {
                audit_id: Some(audit_id),
                answer: answer.cloned().or(s.answer.clone()),
                status_info: s.status_info.clone(),
                detail: detail.map(str::to_owned),
            };
            let (to, outcome) = match ended.get(&audit_id) {
                Some(status) if status == "Installed" => (S::Succeeded, outcome(None, Some(status))),
                Some(status) => (S::Failed, outcome(Some("the firmware update failed"), Some(status))),
                None if past_deadline => (
                    S::Failed,
                    outcome(Some("not installed before the deadline"), last.get(&audit_id)),
                ),
                None if c.deadline.is_none() && s.started_at.is_some_and(|t| now - t > FIRMWARE_WAIT) => (
                    S::Failed,
                    outcome(Some("no Installed within 24 hours"), last.get(&audit_id)),
                ),
                None => match last.get(&audit_id) {
                    // The latest status, so the campaign shows how far each charger got.
                    Some(status) if s.answer.as_ref() != Some(status) => (S::Installing, outcome(None, Some(status))),
                    _ => continue,
                },
            };
            store
                .move_step(c.id, &s.charger_id, S::Installing, to, Some(outcome))
                .await?;
        }
        Ok(())
    }
}

/// The creator as the gate sees them now; `None` once their account is disabled or gone.
async fn creator(state: &AppState, user_id: i32) -> Result<Option<Principal>, Error> {
    Ok(state.store.principal_of(user_id).await?.map(|(p, _)| p))
}

/// Sends one charger its step; where the step goes next and what is known of it. A command
/// that surely did not reach the charger (offline, not booted, busy) waits its next turn.
async fn send(
    state: &AppState,
    p: &Principal,
    charger_id: &str,
    step: Step,
    follows: bool,
) -> (S, Option<StepOutcome>) {
    let result = match step {
        Step::Command(cmd) => commands::execute(state, p, charger_id, cmd).await.map(Answer::Reply),
        Step::LocalList => commands::local_list::force(state, p, charger_id)
            .await
            .map(|out| Answer::List(out.state, out.last_error)),
    };
    match result {
        Ok(Answer::Reply(reply)) => answered(state, charger_id, reply, follows).await,
        Ok(Answer::List(list, error)) => {
            let to = match list {
                LocalListState::Synced | LocalListState::Pending => S::Succeeded,
                _ => S::Failed,
            };
            let outcome = StepOutcome {
                answer: Some(list.to_string()),
                detail: error,
                ..Default::default()
            };
            (to, Some(outcome))
        }
        Err(Error::Offline | Error::NotReady | Error::Busy(_)) => (S::Queued, None),
        Err(e) => {
            let outcome = StepOutcome {
                answer: Some(e.outcome().to_owned()),
                detail: Some(e.to_string()),
                ..Default::default()
            };
            (S::Failed, Some(outcome))
        }
    }
}

enum Answer {
    Reply(CommandReply),
    List(LocalListState, Option<String>),
}

async fn answered(state: &AppState, charger_id: &str, reply: CommandReply, follows: bool) -> (S, Option<StepOutcome>) {
    // What each command's "yes" is: a reset or availability change may be `Scheduled` for
    // when a session ends, an unlock answers `Unlocked`, a firmware update that replaced one
    // in progress `AcceptedCanceled`.
    let took = reply.status.took()
        || matches!(
            reply.status,
            ReplyStatus::Scheduled | ReplyStatus::Unlocked | ReplyStatus::AcceptedCanceled
        );
    let mut outcome = StepOutcome {
        answer: Some(reply.status.as_str().to_owned()),
        status_info: reply.status_info.map(|i| match i.additional_info {
            Some(more) => format!("{}: {more}", i.reason_code),
            None => i.reason_code,
        }),
        ..Default::default()
    };
    if !took {
        return (S::Failed, Some(outcome));
    }
    if !follows {
        return (S::Succeeded, Some(outcome));
    }
    // The statuses that follow name the command's audit row; one firmware command at a time
    // per charger, so the charger's link is this one's.
    match state.store.charger(charger_id).await {
        Ok(Some(c)) if c.firmware_audit_id.is_some() => {
            outcome.audit_id = c.firmware_audit_id;
            (S::Installing, Some(outcome))
        }
        _ => {
            outcome.detail = Some("accepted, but its firmware statuses cannot be followed".into());
            (S::Failed, Some(outcome))
        }
    }
}
