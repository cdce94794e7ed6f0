//! Per-organisation counts of chargers (how many, online, faulted) and of their connectors by
//! status, kept as chargers change, so the dashboard answers over 100,000 chargers from memory
//! instead of counting them at every request.
//!
//! The truth stays in the database and the fleet. The tally is built from them when the node
//! starts and again every [`REBUILD`]; between builds every charger named on the [`Live`]
//! stream (this node's changes, a cluster's relayed ones, the API's registrations, moves and
//! deletions) is read again and its old contribution replaced by the new one. No count is a
//! running sum of events that could be lost or repeated: a missed change lasts at most until
//! the next build, and a listener that lags builds at once. Online is the fleet's; in a cluster
//! it is checked again every [`ONLINE_RECHECK`], because a dead node's chargers go offline when
//! its lease runs out, with no event.
//!
//! Figures leave the tally only through [`Tally::within`], as sums over a caller's [`Scope`].
//! A reader first has the tally take in every change this node has published so far (and
//! waits for that, at most [`FLUSH_WAIT`]), so whoever just saw a charger change on this node
//! sees it counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior, interval};
use tokio_util::sync::CancellationToken;

use crate::access::{Grant, Permission, Scope};
use crate::cluster::Fleet;
use crate::live::{Change, Live};
use crate::store::{self, ChargerTally, Store};

/// How long changed chargers are gathered before they are read again together.
const GATHER: Duration = Duration::from_millis(250);
/// How often a clustered node asks the fleet again which chargers are online.
const ONLINE_RECHECK: Duration = Duration::from_secs(3);
/// How often the tally is built anew from the database, whatever it heard.
const REBUILD: Duration = Duration::from_secs(60);
/// How long a failed build waits before the next try.
const RETRY: Duration = Duration::from_secs(5);
/// How long a reader waits for the changes published before it to be counted.
const FLUSH_WAIT: Duration = Duration::from_secs(2);
/// Ids read again per query.
const READ_CHUNK: usize = 500;
/// Past this many changed chargers in one gathering, a build is cheaper than reading them.
const MAX_PENDING: usize = 20_000;

/// Chargers and connectors counted over some organisations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub chargers: u64,
    pub online: u64,
    pub faulted: u64,
    /// Connectors by last status.
    pub connectors: BTreeMap<Arc<str>, u64>,
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.chargers += other.chargers;
        self.online += other.online;
        self.faulted += other.faulted;
        for (status, n) in &other.connectors {
            *self.connectors.entry(Arc::clone(status)).or_default() += n;
        }
    }
}

/// The node's tally; cheap to clone. Empty (and [`Tally::within`] answers `None`) until
/// [`spawn`]ed and built.
#[derive(Debug, Clone)]
pub struct Tally {
    inner: Arc<RwLock<Inner>>,
    /// Readers asking the keeper to take in what it has not yet, answered when it has.
    flushes: mpsc::UnboundedSender<oneshot::Sender<()>>,
    /// The other end, until [`spawn`] takes it.
    keeper: Arc<Mutex<Option<mpsc::UnboundedReceiver<oneshot::Sender<()>>>>>,
}

impl Default for Tally {
    fn default() -> Self {
        let (flushes, keeper) = mpsc::unbounded_channel();
        Self {
            inner: Arc::default(),
            flushes,
            keeper: Arc::new(Mutex::new(Some(keeper))),
        }
    }
}

/// One charger's share of its organisation's counts.
#[derive(Debug)]
struct Share {
    organisation_id: i32,
    online: bool,
    faulted: bool,
    connectors: Box<[Arc<str>]>,
}

#[derive(Debug, Default)]
struct Inner {
    built: bool,
    chargers: HashMap<Box<str>, Share>,
    organisations: HashMap<i32, Counts>,
    /// Each status string once, shared by every connector reporting it.
    statuses: HashSet<Arc<str>>,
}

impl Inner {
    fn share(&mut self, tally: ChargerTally, online: bool) -> Share {
        let connectors = tally
            .connectors
            .into_iter()
            .map(|status| match self.statuses.get(status.as_str()) {
                Some(known) => Arc::clone(known),
                None => {
                    let status: Arc<str> = Arc::from(status);
                    self.statuses.insert(Arc::clone(&status));
                    status
                }
            })
            .collect();
        Share {
            organisation_id: tally.organisation_id,
            online,
            faulted: tally.faulted,
            connectors,
        }
    }

    /// Replaces the charger's share (`None`: it is gone or belongs to no organisation).
    fn set(&mut self, id: &str, share: Option<Share>) {
        if let Some(old) = self.chargers.remove(id) {
            self.count(&old, false);
        }
        if let Some(new) = share {
            self.count(&new, true);
            self.chargers.insert(id.into(), new);
        }
    }

    fn count(&mut self, share: &Share, add: bool) {
        let org = self.organisations.entry(share.organisation_id).or_default();
        let step = |n: &mut u64, yes: bool| {
            if yes {
                *n = if add { *n + 1 } else { n.saturating_sub(1) };
            }
        };
        step(&mut org.chargers, true);
        step(&mut org.online, share.online);
        step(&mut org.faulted, share.faulted);
        for status in share.connectors.iter() {
            let n = org.connectors.entry(Arc::clone(status)).or_default();
            step(n, true);
            if *n == 0 {
                org.connectors.remove(status);
            }
        }
        if org.chargers == 0 {
            self.organisations.remove(&share.organisation_id);
        }
    }
}

impl Tally {
    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Nothing panics while the lock is held; a poisoned lock still holds whole counts.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the tally has been built and answers for whole scopes.
    pub fn is_built(&self) -> bool {
        self.read().built
    }

    /// The counts over the chargers a `ChargersRead` scope may see, or `None` when the tally
    /// cannot say: not built, or a scope that sees only some of an organisation's chargers
    /// (a fleet manager's home chargers), which only the database can sort.
    pub async fn within(&self, store: &Store, scope: &Scope) -> store::Result<Option<Counts>> {
        let mut sum = Counts::default();
        let answered = self.visit(store, scope, |_, counts| sum.add(counts)).await?;
        Ok(answered.then_some(sum))
    }

    /// [`Tally::within`] for each organisation of the scope that has chargers.
    pub async fn per_organisation(&self, store: &Store, scope: &Scope) -> store::Result<Option<HashMap<i32, Counts>>> {
        let mut each = HashMap::new();
        let answered = self
            .visit(store, scope, |id, counts| {
                each.insert(id, counts.clone());
            })
            .await?;
        Ok(answered.then_some(each))
    }

    /// Calls `f` with the counts of every organisation of the scope that has chargers, after
    /// taking in what this node has published so far; `false` where the tally cannot say.
    async fn visit(&self, store: &Store, scope: &Scope, mut f: impl FnMut(i32, &Counts)) -> store::Result<bool> {
        let whole = scope.permission() == Permission::ChargersRead
            && scope.entries().iter().all(|(_, grant)| *grant == Grant::Full);
        if !whole || !self.read().built {
            return Ok(false);
        }
        let (done, flushed) = oneshot::channel();
        if self.flushes.send(done).is_ok() {
            // Past the wait the counts are a moment old, which beats no answer.
            let _ = tokio::time::timeout(FLUSH_WAIT, flushed).await;
        }
        let organisations = store.organisation_ids_in(scope).await?;
        let inner = self.read();
        if !inner.built {
            return Ok(false);
        }
        for id in organisations {
            if let Some(counts) = inner.organisations.get(&id) {
                f(id, counts);
            }
        }
        Ok(true)
    }

    /// Builds the tally anew from the database and the fleet.
    pub async fn build(&self, store: &Store, fleet: &Fleet) -> store::Result<()> {
        let all = store.charger_tallies(None).await?;
        let mut fresh = Inner {
            built: true,
            ..Inner::default()
        };
        for (id, tally) in all {
            let share = fresh.share(tally, fleet.is_online(&id));
            fresh.set(&id, Some(share));
        }
        *self.write() = fresh;
        Ok(())
    }

    /// Reads the named chargers again and replaces their shares.
    async fn refresh(&self, store: &Store, fleet: &Fleet, ids: Vec<Arc<str>>) -> store::Result<()> {
        for chunk in ids.chunks(READ_CHUNK) {
            let named: Vec<String> = chunk.iter().map(|id| id.to_string()).collect();
            let mut found = store.charger_tallies(Some(&named)).await?;
            let mut inner = self.write();
            for id in &named {
                let share = found.remove(id).map(|t| inner.share(t, fleet.is_online(id)));
                inner.set(id, share);
            }
        }
        Ok(())
    }

    /// Asks the fleet again which chargers are online and moves the ones that changed.
    fn recheck_online(&self, fleet: &Fleet) {
        let flipped: Vec<Box<str>> = self
            .read()
            .chargers
            .iter()
            .filter(|(id, share)| share.online != fleet.is_online(id))
            .map(|(id, _)| id.clone())
            .collect();
        if flipped.is_empty() {
            return;
        }
        let mut inner = self.write();
        for id in flipped {
            let Some(mut share) = inner.chargers.remove(&id) else {
                continue;
            };
            inner.count(&share, false);
            share.online = fleet.is_online(&id);
            inner.count(&share, true);
            inner.chargers.insert(id, share);
        }
    }

    fn forget(&self) {
        self.write().built = false;
    }
}

/// Keeps the tally until `shutdown`: built at once, then changed chargers read again as they
/// are named on `live`.
pub fn spawn(tally: Tally, store: Store, fleet: Fleet, live: Live, shutdown: CancellationToken) -> JoinHandle<()> {
    // Subscribed before the first build, so nothing changed during it goes unheard.
    let changes = live.subscribe();
    let flushes = tally.keeper.lock().unwrap_or_else(|e| e.into_inner()).take();
    let built = tally.read().built;
    let mut keeper = Keeper {
        stale: !built,
        tally,
        store,
        fleet,
        changes,
        next_try: Instant::now(),
        pending: HashSet::new(),
    };
    tokio::spawn(async move {
        let Some(mut flushes) = flushes else {
            tracing::error!("the charger tally is kept already");
            return;
        };
        let mut gather = interval(GATHER);
        let mut rebuild = interval(REBUILD);
        let mut recheck = interval(ONLINE_RECHECK);
        for timer in [&mut gather, &mut rebuild, &mut recheck] {
            timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
        }
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                change = keeper.changes.recv() => match change {
                    Ok(change) => keeper.note(change),
                    Err(RecvError::Lagged(_)) => keeper.stale = true,
                    Err(RecvError::Closed) => return,
                },
                Some(first) = flushes.recv() => {
                    let mut waiting = vec![first];
                    while let Ok(more) = flushes.try_recv() {
                        waiting.push(more);
                    }
                    if !keeper.drain() {
                        return;
                    }
                    keeper.catch_up().await;
                    for done in waiting {
                        let _ = done.send(());
                    }
                }
                _ = rebuild.tick() => keeper.stale = true,
                _ = recheck.tick(), if keeper.fleet.spans_nodes() => keeper.tally.recheck_online(&keeper.fleet),
                _ = gather.tick() => keeper.catch_up().await,
            }
        }
    })
}

/// The task that keeps the tally, and what it has heard but not yet counted.
struct Keeper {
    tally: Tally,
    store: Store,
    fleet: Fleet,
    changes: broadcast::Receiver<Change>,
    /// A build is due: at start, every [`REBUILD`], after a lag or a failed read.
    stale: bool,
    next_try: Instant,
    pending: HashSet<Arc<str>>,
}

impl Keeper {
    /// Notes a charger heard of, to read again.
    fn note(&mut self, change: Change) {
        if self.pending.len() < MAX_PENDING {
            self.pending.insert(change.charger_id);
        } else {
            self.stale = true;
        }
    }

    /// Notes every change published so far; `false` once the stream has ended.
    fn drain(&mut self) -> bool {
        loop {
            match self.changes.try_recv() {
                Ok(change) => self.note(change),
                Err(TryRecvError::Lagged(_)) => self.stale = true,
                Err(TryRecvError::Empty) => return true,
                Err(TryRecvError::Closed) => return false,
            }
        }
    }

    /// Builds, or reads again the chargers heard of.
    async fn catch_up(&mut self) {
        if self.stale {
            if Instant::now() < self.next_try {
                return;
            }
            self.pending.clear();
            match self.tally.build(&self.store, &self.fleet).await {
                Ok(()) => self.stale = false,
                Err(e) => {
                    // The dashboard counts in the database until a build succeeds.
                    tracing::warn!(error = %e, "could not build the charger tally");
                    self.tally.forget();
                    self.next_try = Instant::now() + RETRY;
                }
            }
        } else if !self.pending.is_empty() {
            let ids: Vec<Arc<str>> = self.pending.drain().collect();
            if let Err(e) = self.tally.refresh(&self.store, &self.fleet, ids).await {
                tracing::warn!(error = %e, "could not read changed chargers for the tally");
                self.stale = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(org: i32, faulted: bool, connectors: &[&str]) -> ChargerTally {
        ChargerTally {
            organisation_id: org,
            faulted,
            connectors: connectors.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn counts(chargers: u64, online: u64, faulted: u64, connectors: &[(&str, u64)]) -> Counts {
        Counts {
            chargers,
            online,
            faulted,
            connectors: connectors.iter().map(|(s, n)| (Arc::from(*s), *n)).collect(),
        }
    }

    /// Replacing shares in any order leaves exactly the counts of the shares standing, and no
    /// organisation without chargers.
    #[test]
    fn shares_replace_each_other_without_drift() {
        let mut inner = Inner::default();
        let a = inner.share(tally(1, false, &["Available", "Charging"]), true);
        inner.set("A", Some(a));
        let b = inner.share(tally(1, true, &["Faulted"]), false);
        inner.set("B", Some(b));
        assert_eq!(
            inner.organisations[&1],
            counts(2, 1, 1, &[("Available", 1), ("Charging", 1), ("Faulted", 1)])
        );

        // A's connector finished and A moved to organisation 2; B's fault cleared.
        let a = inner.share(tally(2, false, &["Available", "Available"]), true);
        inner.set("A", Some(a));
        let b = inner.share(tally(1, false, &["Available"]), false);
        inner.set("B", Some(b));
        assert_eq!(inner.organisations[&1], counts(1, 0, 0, &[("Available", 1)]));
        assert_eq!(inner.organisations[&2], counts(1, 1, 0, &[("Available", 2)]));

        // B deleted (or left its organisation): organisation 1 is gone from the tally.
        inner.set("B", None);
        assert!(!inner.organisations.contains_key(&1));
        assert_eq!(inner.chargers.len(), 1);
        // Each status string is kept once however many connectors report it.
        assert_eq!(inner.statuses.len(), 3);
    }
}
