//! The NATS side of a cluster: claims, node leases, the claim replica and cross-node calls.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, kv};
use chrono::{DateTime, Utc};
use dashmap::DashMap;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::Location;
use crate::config::ClusterConfig;
use crate::gateway::{CallFailure, Presence, Registry};
use crate::live::Live;
use crate::ocpp::OcppVersion;

/// Extra time a cross-node call waits beyond the owning node's own call timeout, so the owner
/// answers `Timeout` itself rather than the request expiring on the way.
const RELAY_MARGIN: Duration = Duration::from_secs(2);

/// Why the cluster could not be joined.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("connecting to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("opening the JetStream key-value bucket {bucket}: {detail}")]
    Bucket { bucket: String, detail: String },
    #[error("NATS: {0}")]
    Nats(String),
}

/// A charger's claim as stored in the bucket.
#[derive(Debug, Serialize, Deserialize)]
struct Claim {
    node: String,
    version: String,
}

/// A claim as this node's replica holds it.
#[derive(Debug, Clone)]
struct Seen {
    node: String,
    version: OcppVersion,
    revision: u64,
}

/// What one node asks another.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Call {
        charger_id: String,
        action: String,
        payload: Value,
    },
    Disconnect {
        charger_id: String,
    },
}

/// Who asked for a relayed request, for the owning node's log: the user, and the audit row
/// the asking node wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    pub user_id: Option<i32>,
    pub audit_id: Option<i64>,
}

/// A request as it travels: signed with the cluster key over the subject it was sent to and
/// everything it says, so a node runs only what another node's gate passed.
#[derive(Debug, Serialize, Deserialize)]
struct Signed {
    /// The JSON of [`Relayed`], exactly as signed.
    body: String,
    /// HMAC-SHA256 of `subject \n body` under `cluster.secret`, hex.
    mac: String,
}

/// What a signed request says.
#[derive(Debug, Serialize, Deserialize)]
struct Relayed {
    node: String,
    origin: Origin,
    /// Unix milliseconds when it was sent; old ones are refused (replays).
    sent_ms: i64,
    /// Unique per request; one seen before is refused (replays within the window).
    nonce: String,
    request: Request,
}

/// A relayed request whose signature, age and nonce checked out: the proof (in place of the
/// asking node's gate) that lets this node's registry call or close the charger.
struct Verified;

impl crate::access::sealed::Sealed for Verified {}
impl crate::access::MayCall for Verified {}
impl crate::access::MayDisconnect for Verified {}

/// Why a relayed request was refused.
#[derive(Debug, thiserror::Error)]
enum Forged {
    #[error("not a signed request")]
    Unreadable,
    #[error("bad signature")]
    Signature,
    #[error("sent {0} ms away from now")]
    Stale(i64),
    #[error("nonce seen before (a replay)")]
    Replayed,
}

/// How far a relayed request's send time may be from ours.
const RELAY_WINDOW_MS: i64 = 30_000;

/// The cluster key: signs what this node sends and checks what it receives.
struct Key(Vec<u8>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

impl Key {
    fn mac(&self, subject: &str, body: &str) -> hmac::Hmac<sha2::Sha256> {
        use hmac::{KeyInit, Mac};
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(subject.as_bytes());
        mac.update(b"\n");
        mac.update(body.as_bytes());
        mac
    }

    fn sign(&self, subject: &str, body: String) -> Signed {
        use hmac::Mac;
        let tag = self.mac(subject, &body).finalize().into_bytes();
        Signed {
            mac: tag.iter().map(|b| format!("{b:02x}")).collect(),
            body,
        }
    }

    fn verify(&self, subject: &str, signed: &Signed) -> bool {
        use hmac::Mac;
        let Some(tag) = (0..signed.mac.len())
            .step_by(2)
            .map(|i| signed.mac.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        // Constant time, by the hmac crate.
        self.mac(subject, &signed.body).verify_slice(&tag).is_ok()
    }
}

/// This node's membership of the cluster.
#[derive(Debug)]
pub struct Cluster {
    node_id: String,
    prefix: String,
    lease: chrono::Duration,
    call_timeout: Duration,
    client: async_nats::Client,
    claims_kv: kv::Store,
    nodes_kv: kv::Store,
    /// Replica of the claims bucket.
    claims: DashMap<String, Seen>,
    /// When each node's heartbeat was last written (server time).
    heard: DashMap<String, DateTime<Utc>>,
    /// This node's own claims: (revision, connection session). The revision keeps a release
    /// from deleting a newer claim; the session keeps a move from closing a newer connection.
    own: DashMap<String, (u64, u64)>,
    /// Claims up to this revision predate this start; one naming this node is a leftover of
    /// an earlier run that ended without a drain.
    history_until: u64,
    flush: mpsc::UnboundedSender<oneshot::Sender<()>>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
    key: Key,
    /// Nonces of relayed requests seen within the window, with when they were sent.
    nonces: DashMap<String, i64>,
}

impl Cluster {
    /// Connects to NATS, opens (or creates) the buckets, replicates them and starts answering
    /// requests for the chargers in `registry`. Call before the gateway accepts connections.
    pub async fn start(
        config: &ClusterConfig,
        node_id: String,
        call_timeout: Duration,
        registry: Registry,
        live: Live,
    ) -> Result<Arc<Self>, ClusterError> {
        let url = config.nats_url.clone().unwrap_or_default();
        let client = async_nats::ConnectOptions::new()
            .name(format!("voltgate {node_id}"))
            .connect(url.as_str())
            .await
            .map_err(|source| ClusterError::Connect {
                url: crate::config::redact(&url),
                source,
            })?;
        let js = jetstream::new(client.clone());
        let lease = Duration::from_secs(config.lease_s);
        let claims_kv = bucket(&js, format!("{}_chargers", config.prefix), Duration::ZERO).await?;
        // Heartbeats of nodes gone for good age out on their own.
        let nodes_kv = bucket(&js, format!("{}_nodes", config.prefix), lease * 10).await?;
        let history_until = claims_kv
            .status()
            .await
            .map(|s| s.info.state.last_sequence)
            .unwrap_or(0);
        let presence_rx = registry
            .presence()
            .ok_or_else(|| ClusterError::Nats("the registry already reports to a cluster".into()))?;
        let (flush, flush_rx) = mpsc::unbounded_channel();
        let cluster = Arc::new(Self {
            node_id,
            prefix: config.prefix.clone(),
            lease: chrono::Duration::seconds(config.lease_s as i64),
            call_timeout,
            client,
            claims_kv,
            nodes_kv,
            claims: DashMap::new(),
            heard: DashMap::new(),
            own: DashMap::new(),
            history_until,
            flush,
            tasks: std::sync::Mutex::new(Vec::new()),
            key: Key(config
                .secret
                .as_ref()
                .map(|s| s.expose().as_bytes().to_vec())
                .unwrap_or_default()),
            nonces: DashMap::new(),
        });

        // Heartbeat first, so the node is alive before it claims anything.
        cluster.beat().await?;
        let requests = cluster
            .client
            .subscribe(cluster.subject(&cluster.node_id))
            .await
            .map_err(|e| ClusterError::Nats(e.to_string()))?;
        let changes = cluster
            .client
            .subscribe(format!("{}.live.*", cluster.prefix))
            .await
            .map_err(|e| ClusterError::Nats(e.to_string()))?;
        let tasks = vec![
            tokio::spawn(Arc::clone(&cluster).relay_live(live, changes)),
            tokio::spawn(Arc::clone(&cluster).heartbeats(lease / 3)),
            tokio::spawn(Arc::clone(&cluster).watch_nodes()),
            tokio::spawn(Arc::clone(&cluster).watch_claims(registry.clone())),
            tokio::spawn(Arc::clone(&cluster).claim_and_release(presence_rx, flush_rx)),
            tokio::spawn(Arc::clone(&cluster).answer(requests, registry)),
        ];
        if let Ok(mut slot) = cluster.tasks.lock() {
            *slot = tasks;
        }
        tracing::info!(node = %cluster.node_id, lease_s = config.lease_s, "joined the cluster");
        Ok(cluster)
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    fn subject(&self, node: &str) -> String {
        format!("{}.node.{node}", self.prefix)
    }

    fn alive(&self, node: &str) -> bool {
        self.heard.get(node).is_some_and(|at| Utc::now() - *at < self.lease)
    }

    /// Where a charger not connected here is, per the replica.
    pub(super) fn locate(&self, charger_id: &str) -> Location {
        match self.claims.get(charger_id) {
            Some(seen) if seen.node != self.node_id && self.alive(&seen.node) => Location::Elsewhere {
                node: seen.node.clone(),
                version: seen.version,
            },
            _ => Location::Nowhere,
        }
    }

    /// A CALL relayed to the charger's node; its registry's answer comes back unchanged.
    pub(super) async fn call(
        &self,
        node: &str,
        origin: Origin,
        charger_id: &str,
        action: &str,
        payload: Value,
    ) -> Result<Value, CallFailure> {
        let request = Request::Call {
            charger_id: charger_id.to_owned(),
            action: action.to_owned(),
            payload,
        };
        let body = self.seal(node, origin, request).ok_or(CallFailure::Offline)?;
        // Without NATS no other node can be reached now: say so at once rather than let the
        // request wait out its timeout in the client's reconnect buffer.
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return Err(CallFailure::Offline);
        }
        let sent = self
            .client
            .send_request(
                self.subject(node),
                async_nats::Request::new()
                    .payload(body.into())
                    .timeout(Some(self.call_timeout + RELAY_MARGIN)),
            )
            .await;
        match sent {
            Ok(reply) => serde_json::from_slice::<Result<Value, CallFailure>>(&reply.payload).unwrap_or_else(|e| {
                tracing::warn!(%node, error = %e, "unreadable answer from another node");
                Err(CallFailure::Disconnected)
            }),
            Err(e) => match e.kind() {
                // Nobody listens on the subject: the node is gone (killed, or drained).
                async_nats::client::RequestErrorKind::NoResponders => Err(CallFailure::Offline),
                async_nats::client::RequestErrorKind::TimedOut => Err(CallFailure::Timeout),
                _ => {
                    tracing::warn!(%node, error = %e, "could not reach another node");
                    Err(CallFailure::Offline)
                }
            },
        }
    }

    /// Asks the charger's node to close its connection.
    pub(super) async fn disconnect(&self, node: &str, origin: Origin, charger_id: &str) {
        let request = Request::Disconnect {
            charger_id: charger_id.to_owned(),
        };
        if let Some(body) = self.seal(node, origin, request)
            && let Err(e) = self.client.publish(self.subject(node), body.into()).await
        {
            tracing::warn!(%node, error = %e, "could not ask another node to disconnect a charger");
        }
    }

    /// `request` for `node`, signed.
    fn seal(&self, node: &str, origin: Origin, request: Request) -> Option<Vec<u8>> {
        let relayed = Relayed {
            node: self.node_id.clone(),
            origin,
            sent_ms: Utc::now().timestamp_millis(),
            nonce: crate::crypto::random_hex(16),
            request,
        };
        let body = serde_json::to_string(&relayed).ok()?;
        serde_json::to_vec(&self.key.sign(&self.subject(node), body)).ok()
    }

    /// A received request, if another node holding the cluster key sent it to this subject
    /// within the window and never before.
    fn open(&self, subject: &str, payload: &[u8]) -> Result<(Relayed, Verified), Forged> {
        let signed: Signed = serde_json::from_slice(payload).map_err(|_| Forged::Unreadable)?;
        if !self.key.verify(subject, &signed) {
            return Err(Forged::Signature);
        }
        let relayed: Relayed = serde_json::from_str(&signed.body).map_err(|_| Forged::Unreadable)?;
        let now = Utc::now().timestamp_millis();
        let off = now.saturating_sub(relayed.sent_ms);
        if off.abs() > RELAY_WINDOW_MS {
            return Err(Forged::Stale(off));
        }
        if self.nonces.len() > 10_000 {
            self.nonces
                .retain(|_, sent| now.saturating_sub(*sent) <= RELAY_WINDOW_MS);
        }
        if self.nonces.insert(relayed.nonce.clone(), relayed.sent_ms).is_some() {
            return Err(Forged::Replayed);
        }
        Ok((relayed, Verified))
    }

    async fn beat(&self) -> Result<(), ClusterError> {
        let body = serde_json::json!({"at": Utc::now()}).to_string();
        self.nodes_kv
            .put(&self.node_id, body.into())
            .await
            .map_err(|e| ClusterError::Nats(e.to_string()))?;
        self.heard.insert(self.node_id.clone(), Utc::now());
        Ok(())
    }

    async fn heartbeats(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.beat().await {
                tracing::warn!(error = %e, "cluster heartbeat failed");
            }
        }
    }

    /// Keeps a watch on `store` running: if the stream ends or cannot start (NATS restarting),
    /// it starts again from the last value of every key.
    async fn watch_forever(store: &kv::Store, what: &str, mut each: impl FnMut(kv::Entry)) {
        loop {
            match store.watch_with_history(">").await {
                Ok(mut watch) => {
                    while let Some(entry) = watch.next().await {
                        match entry {
                            Ok(entry) => each(entry),
                            Err(e) => tracing::warn!(error = %e, "cluster {what} watch: bad entry"),
                        }
                    }
                    tracing::warn!("cluster {what} watch ended; restarting it");
                }
                Err(e) => tracing::warn!(error = %e, "cluster {what} watch failed; retrying"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    async fn watch_nodes(self: Arc<Self>) {
        Self::watch_forever(&self.nodes_kv, "node", |entry| match entry.operation {
            kv::Operation::Put => {
                // A replayed heartbeat is as old as the server says; a live one is timed here,
                // so clock skew between this node and the NATS server does not matter.
                let at = if !entry.seen_current {
                    DateTime::from_timestamp(entry.created.unix_timestamp(), 0).unwrap_or_else(Utc::now)
                } else {
                    Utc::now()
                };
                self.heard.insert(entry.key, at);
            }
            kv::Operation::Delete | kv::Operation::Purge => {
                self.heard.remove(&entry.key);
            }
        })
        .await;
    }

    async fn watch_claims(self: Arc<Self>, registry: Registry) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let watcher = Arc::clone(&self);
        let watching = tokio::spawn(async move {
            Self::watch_forever(&watcher.claims_kv, "claim", |entry| {
                let _ = tx.send(entry);
            })
            .await
        });
        while let Some(entry) = rx.recv().await {
            let Some(charger_id) = decode_key(&entry.key) else {
                continue;
            };
            match entry.operation {
                kv::Operation::Put => {
                    let Some((claim, version)) = serde_json::from_slice::<Claim>(&entry.value)
                        .ok()
                        .and_then(|c| OcppVersion::from_subprotocol(&c.version).map(|v| (c, v)))
                    else {
                        continue;
                    };
                    // A newer claim by another node: the charger reconnected there, so the older
                    // connection here must go, as a second local connection would replace it.
                    let ours = self.own.get(&charger_id).map(|own| *own);
                    if claim.node != self.node_id
                        && let Some((revision, session)) = ours
                        && revision < entry.revision
                    {
                        self.own.remove_if(&charger_id, |_, own| own.1 == session);
                        registry.close_moved(&charger_id, session);
                    }
                    if claim.node == self.node_id && entry.revision <= self.history_until && ours.is_none() {
                        // Left by an earlier run of this node that was killed: not ours any more.
                        let _ = self
                            .claims_kv
                            .delete_expect_revision(&entry.key, Some(entry.revision))
                            .await;
                        continue;
                    }
                    self.claims.insert(
                        charger_id,
                        Seen {
                            node: claim.node,
                            version,
                            revision: entry.revision,
                        },
                    );
                }
                kv::Operation::Delete | kv::Operation::Purge => {
                    self.claims
                        .remove_if(&charger_id, |_, seen| seen.revision < entry.revision);
                }
            }
        }
        watching.abort();
    }

    /// Tells the other nodes of changes to this node's chargers, and this node of theirs, so a
    /// console tab on any node sees every charger change live: ids gathered for a moment and
    /// published on `{prefix}.live.{node}`. Unsigned, unlike commands: a forged batch can only
    /// make a tab look again, and every id still passes that tab's gate.
    async fn relay_live(self: Arc<Self>, live: Live, mut theirs: async_nats::Subscriber) {
        const GATHER: Duration = Duration::from_millis(200);
        let mine = format!("{}.live.{}", self.prefix, self.node_id);
        let mut changes = live.subscribe();
        let mut batch: std::collections::BTreeSet<Arc<str>> = Default::default();
        let mut tick = tokio::time::interval(GATHER);
        // Past 1,000 ids in one batch (either way) the rest are left out: a tab already hears
        // "all" past 200 (`console::live`), so more names would change nothing it does.
        loop {
            tokio::select! {
                change = changes.recv() => match change {
                    Ok(c) if c.here && batch.len() < 1000 => { batch.insert(c.charger_id); }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                },
                message = theirs.next() => {
                    let Some(message) = message else { return };
                    if message.subject.as_str() == mine {
                        continue;
                    }
                    let ids: Vec<String> = serde_json::from_slice(&message.payload).unwrap_or_default();
                    for id in ids.iter().take(1000) {
                        live.changed_elsewhere(id);
                    }
                }
                _ = tick.tick() => {
                    if batch.is_empty() {
                        continue;
                    }
                    let ids: Vec<&str> = batch.iter().map(|id| &**id).collect();
                    if let Ok(body) = serde_json::to_vec(&ids) {
                        // Lost while NATS is away: the tabs there fall back to polling.
                        let _ = self.client.publish(mine.clone(), body.into()).await;
                    }
                    batch.clear();
                }
            }
        }
    }

    /// Writes this node's claims as chargers connect and releases them as they leave, in the
    /// order the registry reported them.
    async fn claim_and_release(
        self: Arc<Self>,
        mut presence: mpsc::UnboundedReceiver<Presence>,
        mut flush: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    ) {
        loop {
            tokio::select! {
                biased;
                event = presence.recv() => match event {
                    Some(Presence::Up { charger_id, version, session }) => self.claim(charger_id, version, session).await,
                    Some(Presence::Down { charger_id, session }) => self.release(&charger_id, Some(session)).await,
                    None => return,
                },
                // Reached only once no presence event is waiting: everything before is written.
                done = flush.recv() => match done {
                    Some(done) => { let _ = done.send(()); }
                    None => return,
                },
            }
        }
    }

    async fn claim(&self, charger_id: String, version: OcppVersion, session: u64) {
        let claim = Claim {
            node: self.node_id.clone(),
            version: version.subprotocol().to_owned(),
        };
        let Ok(body) = serde_json::to_vec(&claim) else { return };
        let key = encode_key(&charger_id);
        // NATS may be reconnecting: a few tries before the charger stays unclaimed (reachable
        // from this node only) until it reconnects.
        for attempt in 1..=3u32 {
            match self.claims_kv.put(&key, body.clone().into()).await {
                Ok(revision) => {
                    self.own.insert(charger_id, (revision, session));
                    return;
                }
                Err(e) if attempt == 3 => {
                    tracing::warn!(charger = %charger_id, error = %e, "could not claim a charger in the cluster")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await,
            }
        }
    }

    /// Drops this node's claim of the charger (of connection `session`, or whichever).
    async fn release(&self, charger_id: &str, session: Option<u64>) {
        let Some((_, (revision, _))) = self
            .own
            .remove_if(charger_id, |_, own| session.is_none_or(|s| own.1 == s))
        else {
            return;
        };
        // Only our own claim: if the charger already reconnected elsewhere, the revision moved
        // on and this delete is refused, leaving the new claim alone.
        let _ = self
            .claims_kv
            .delete_expect_revision(encode_key(charger_id), Some(revision))
            .await;
    }

    async fn answer(self: Arc<Self>, mut requests: async_nats::Subscriber, registry: Registry) {
        while let Some(message) = requests.next().await {
            let (relayed, proof) = match self.open(&message.subject, &message.payload) {
                Ok(opened) => opened,
                Err(why) => {
                    tracing::warn!(subject = %message.subject, reason = %why, "refused a request on the node subject");
                    continue;
                }
            };
            let Relayed {
                node, origin, request, ..
            } = relayed;
            tracing::debug!(from = %node, user = ?origin.user_id, audit = ?origin.audit_id, "relayed request");
            match request {
                Request::Disconnect { charger_id } => registry.disconnect(&proof, &charger_id),
                Request::Call {
                    charger_id,
                    action,
                    payload,
                } => {
                    let (registry, client) = (registry.clone(), self.client.clone());
                    tokio::spawn(async move {
                        let result = registry.call(&proof, &charger_id, &action, payload).await;
                        if let (Some(reply), Ok(body)) = (message.reply, serde_json::to_vec(&result))
                            && let Err(e) = client.publish(reply, body.into()).await
                        {
                            tracing::warn!(error = %e, "could not answer another node");
                        }
                    });
                }
            }
        }
    }

    /// Leaves the cluster after the gateway closed its connections: writes the releases still
    /// queued, drops claims that are left and the node's heartbeat, so other nodes stop
    /// routing here at once instead of after a lease.
    pub async fn leave(&self) {
        let (done, wait) = oneshot::channel();
        if self.flush.send(done).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), wait).await;
        }
        // Stop first, so no heartbeat is written after it is deleted.
        if let Ok(mut tasks) = self.tasks.lock() {
            tasks.drain(..).for_each(|t| t.abort());
        }
        let left: Vec<String> = self.own.iter().map(|e| e.key().clone()).collect();
        let releases = futures_util::future::join_all(left.iter().map(|id| self.release(id, None)));
        let cleanup = async {
            releases.await;
            if let Err(e) = self.nodes_kv.delete(&self.node_id).await {
                tracing::warn!(error = %e, "could not remove this node's heartbeat");
            }
            let _ = self.client.flush().await;
        };
        // With NATS unreachable, the leases expire on their own; do not hold up the exit.
        if tokio::time::timeout(Duration::from_secs(5), cleanup).await.is_err() {
            tracing::warn!("NATS did not confirm this node's departure; its claims lapse with the lease");
        }
        tracing::info!(node = %self.node_id, "left the cluster");
    }
}

/// Opens a KV bucket, creating it if needed. The bucket's stream is created directly, with the
/// settings `create_key_value` would use: that call first queries the account, whose answer
/// NATS 2.9 shapes differently from what async-nats 0.51 parses.
async fn bucket(js: &jetstream::Context, name: String, max_age: Duration) -> Result<kv::Store, ClusterError> {
    if let Ok(store) = js.get_key_value(name.as_str()).await {
        return Ok(store);
    }
    let config = jetstream::stream::Config {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        max_age,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: jetstream::stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    };
    match js.create_stream(config).await {
        Ok(_) => js.get_key_value(name.as_str()).await.map_err(|e| ClusterError::Bucket {
            bucket: name,
            detail: e.to_string(),
        }),
        // Another node created it meanwhile.
        Err(first) => js.get_key_value(name.as_str()).await.map_err(|_| ClusterError::Bucket {
            bucket: name,
            detail: first.to_string(),
        }),
    }
}

/// A charger id as a KV key: letters, digits, `-` and `_` stay, anything else is `=HH`.
fn encode_key(charger_id: &str) -> String {
    let mut key = String::with_capacity(charger_id.len());
    for b in charger_id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            key.push(b as char);
        } else {
            key.push_str(&format!("={b:02X}"));
        }
    }
    key
}

fn decode_key(key: &str) -> Option<String> {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = key.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charger_ids_round_trip_through_kv_keys() {
        for id in ["CP-1", "cp_2", "a.b", "x=y", "we!rd*id~", "ÆØ"] {
            let key = encode_key(id);
            assert!(
                key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b)),
                "{key}"
            );
            assert_eq!(decode_key(&key).as_deref(), Some(id));
        }
    }
}
