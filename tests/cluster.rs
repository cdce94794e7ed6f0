//! Two nodes, one system: on one database and the NATS at `VOLTGATE_TEST_NATS_URL`, a command
//! taken by one node reaches a charger connected to the other, follows the charger when it
//! moves, and fails fast (409) when the owning node is killed. Skipped without NATS.

mod common;

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Api, TestCharger, TestServer, boot_payload};
use serde_json::{Value, json};
use voltgate::config::Config;

const PW: &str = "charger-password-1";
const LEASE_S: u64 = 3;
/// The cluster key every node of a test shares.
const SECRET: &str = "cluster-test-secret-0123456789abcdef";

fn nats_url() -> Option<String> {
    match std::env::var("VOLTGATE_TEST_NATS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            // Straight to stderr: libtest would swallow eprintln! of a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "note: VOLTGATE_TEST_NATS_URL not set: cluster tests skipped"
            );
            None
        }
    }
}

/// Cluster settings for node `id`; `prefix` keeps each test's buckets apart.
fn clustered(nats: &str, prefix: &str, id: &str) -> impl FnOnce(&mut Config) + use<> {
    clustered_then(nats, prefix, id, |_| {})
}

/// [`clustered`], then `tweak` for what one test needs otherwise.
fn clustered_then(nats: &str, prefix: &str, id: &str, tweak: fn(&mut Config)) -> impl FnOnce(&mut Config) + use<> {
    let (nats, prefix, id) = (nats.to_owned(), prefix.to_owned(), id.to_owned());
    move |c| {
        c.cluster.nats_url = Some(nats);
        c.cluster.prefix = prefix;
        c.cluster.node_id = Some(id);
        c.cluster.lease_s = LEASE_S;
        c.cluster.secret = Some(SECRET.into());
        tweak(c);
    }
}

fn fresh_prefix() -> String {
    format!("vgtest_{}", voltgate::crypto::random_hex(4))
}

/// Deletes a test's buckets (best effort).
async fn remove_buckets(nats: &str, prefix: &str) {
    if let Ok(client) = async_nats::connect(nats).await {
        let js = async_nats::jetstream::new(client);
        for bucket in ["chargers", "nodes"] {
            let _ = js.delete_key_value(format!("{prefix}_{bucket}")).await;
        }
    }
}

/// Polls the charger's `online` through `api` until it is `want` (at most 15 s).
async fn wait_online(api: &Api, id: &str, want: bool) {
    for _ in 0..300 {
        let (status, body) = api.get(&format!("/chargers/{id}")).await;
        if status == 200 && body["online"] == json!(want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} never became online={want}");
}

/// Polls node `api`'s dashboard until its charger counts and connectors are `want` (at most
/// 15 s): another node's changes arrive through NATS.
async fn wait_dashboard(api: &Api, want: Value) {
    let mut last = Value::Null;
    for _ in 0..300 {
        let (status, body) = api.get("/dashboard").await;
        assert_eq!(status, 200, "{body}");
        last = json!({"chargers": body["chargers"], "connectors": body["connectors"]});
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the dashboard never showed {want}; last {last}");
}

fn counts(total: u64, online: u64, faulted: u64, connectors: Value) -> Value {
    json!({"chargers": {"total": total, "online": online, "offline": total - online, "faulted": faulted},
        "connectors": connectors})
}

async fn boot(cp: &mut TestCharger) {
    let answer = cp.call_ok("BootNotification", boot_payload("1.6")).await;
    assert_eq!(answer["status"], json!("Accepted"), "{answer}");
}

/// A reset through `api` that the charger answers `Accepted`; returns the HTTP answer.
async fn reset(api: &Api, cp: &mut TestCharger, id: &str) -> (u16, Value) {
    let (api, path) = (api.clone(), format!("/chargers/{id}/reset"));
    let request = tokio::spawn(async move { api.post(&path, json!({"type": "hard"})).await });
    let call = cp.recv().await;
    assert_eq!((call[0].clone(), call[2].clone()), (json!(2), json!("Reset")), "{call}");
    assert_eq!(call[3], json!({"type": "Hard"}));
    cp.send_raw(&json!([3, call[1], {"status": "Accepted"}]).to_string())
        .await;
    request.await.expect("request task")
}

#[tokio::test]
async fn a_command_through_one_node_reaches_a_charger_on_the_other_and_follows_it() {
    let Some(nats) = nats_url() else { return };
    let prefix = fresh_prefix();
    // A lease far longer than any wait below: B can only see the charger go because A's
    // drain released it, not because A's lease ran out.
    let long_lease = |c: &mut Config| c.cluster.lease_s = 60;
    let mut a = TestServer::start_with(clustered_then(&nats, &prefix, "node-a", long_lease)).await;
    let mut b = a.join(clustered_then(&nats, &prefix, "node-b", long_lease)).await;
    a.register("CP-X", PW).await;

    let mut cp = a.charger("CP-X", "1.6", PW).await;
    boot(&mut cp).await;
    let via_b = b.admin().await;
    wait_online(&via_b, "CP-X", true).await;

    let (status, body) = reset(&via_b, &mut cp, "CP-X").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], json!("Accepted"));
    // One audit row, written by the node that took the request, with the charger's answer.
    let (_, audit) = via_b.get("/audit?limit=500").await;
    let resets: Vec<&Value> = audit
        .as_array()
        .expect("audit list")
        .iter()
        .filter(|r| r["action"] == json!("command.reset"))
        .collect();
    assert_eq!(resets.len(), 1, "{audit}");
    assert_eq!(resets[0]["outcome"], json!("Accepted"));

    // Drain A: the charger is told to go (1001) and B stops seeing it at once (well inside the
    // lease).
    a.stop().await;
    let close = cp.closed().await.expect("close frame");
    assert_eq!(u16::from(close.code), 1001);
    wait_online(&via_b, "CP-X", false).await;

    // It reconnects to B; A comes back; a reset through A reaches it on B.
    let mut cp = b.charger("CP-X", "1.6", PW).await;
    boot(&mut cp).await;
    a.restart().await;
    let via_a = a.admin().await;
    wait_online(&via_a, "CP-X", true).await;
    let (status, body) = reset(&via_a, &mut cp, "CP-X").await;
    assert_eq!((status, body["status"].clone()), (200, json!("Accepted")), "{body}");

    // A charger on neither node is offline everywhere.
    a.register("CP-NONE", PW).await;
    let (status, body) = via_a.post("/chargers/CP-NONE/reset", json!({"type": "soft"})).await;
    assert_eq!((status, body["error"].clone()), (409, json!("charger_offline")));

    b.stop().await;
    a.stop().await;
    remove_buckets(&nats, &prefix).await;
}

#[tokio::test]
async fn across_nodes_a_callerror_is_502_and_silence_is_504() {
    let Some(nats) = nats_url() else { return };
    let prefix = fresh_prefix();
    let short_timeout = |c: &mut Config| c.ocpp.call_timeout_s = 2;
    let mut a = TestServer::start_with(clustered_then(&nats, &prefix, "node-a", short_timeout)).await;
    let mut b = a.join(clustered_then(&nats, &prefix, "node-b", short_timeout)).await;
    a.register("CP-E", PW).await;
    let mut cp = a.charger("CP-E", "1.6", PW).await;
    boot(&mut cp).await;
    let via_b = b.admin().await;
    wait_online(&via_b, "CP-E", true).await;

    // The charger on A answers a CALLERROR: B's caller gets 502 with the charger's code.
    let api = via_b.clone();
    let request = tokio::spawn(async move { api.post("/chargers/CP-E/reset", json!({"type": "soft"})).await });
    let call = cp.recv().await;
    cp.send_raw(&json!([4, call[1], "InternalError", "relay stuck", {}]).to_string())
        .await;
    let (status, body) = request.await.expect("request task");
    assert_eq!((status, body["error"].clone()), (502, json!("charger_error")), "{body}");
    assert_eq!(body["charger_error"]["code"], json!("InternalError"));

    // It never answers: 504 after the call timeout, the same as on one node.
    let api = via_b.clone();
    let request = tokio::spawn(async move { api.post("/chargers/CP-E/reset", json!({"type": "hard"})).await });
    let call = cp.recv().await;
    assert_eq!(call[2], json!("Reset"));
    let (status, body) = request.await.expect("request task");
    assert_eq!(
        (status, body["error"].clone()),
        (504, json!("charger_timeout")),
        "{body}"
    );

    // Both are in B's audit log, once each, with their outcome.
    let (_, audit) = via_b.get("/audit?limit=500").await;
    let outcomes: Vec<String> = audit
        .as_array()
        .expect("audit list")
        .iter()
        .filter(|r| r["action"] == json!("command.reset"))
        .map(|r| r["outcome"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(outcomes.len(), 2, "{audit}");
    assert!(outcomes.iter().all(|o| o != "pending"), "both finished: {outcomes:?}");

    b.stop().await;
    a.stop().await;
    remove_buckets(&nats, &prefix).await;
}

#[tokio::test]
async fn a_charger_that_moves_while_its_old_node_lives_is_closed_there_and_reached_on_the_new() {
    let Some(nats) = nats_url() else { return };
    let prefix = fresh_prefix();
    let mut a = TestServer::start_with(clustered(&nats, &prefix, "node-a")).await;
    let mut b = a.join(clustered(&nats, &prefix, "node-b")).await;
    a.register("CP-M", PW).await;
    let mut old = a.charger("CP-M", "1.6", PW).await;
    boot(&mut old).await;
    let via_a = a.admin().await;
    wait_online(&via_a, "CP-M", true).await;

    // The same charger connects to B (a balancer sent its reconnect there): A lets go of it.
    let mut moved = b.charger("CP-M", "1.6", PW).await;
    boot(&mut moved).await;
    assert!(old.closed().await.is_some(), "A closes the old connection");
    // At once, not after a window where A still sends into the closing connection.
    let (status, body) = reset(&via_a, &mut moved, "CP-M").await;
    assert_eq!((status, body["status"].clone()), (200, json!("Accepted")), "{body}");
    let (status, body) = reset(&b.admin().await, &mut moved, "CP-M").await;
    assert_eq!((status, body["status"].clone()), (200, json!("Accepted")), "{body}");

    b.stop().await;
    a.stop().await;
    remove_buckets(&nats, &prefix).await;
}

/// A node process, killed when the test ends however it ends.
struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the real binary as a node (so it can be killed like a crashed process).
fn spawn_node(config: &Config, nats: &str, prefix: &str, id: &str) -> (Node, String, String) {
    spawn_node_logging(config, nats, prefix, id, Stdio::inherit())
}

/// [`spawn_node`] with its log (stderr) going to `log`.
fn spawn_node_logging(
    config: &Config,
    nats: &str,
    prefix: &str,
    id: &str,
    log: impl Into<Stdio>,
) -> (Node, String, String) {
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
    };
    let (ocpp, api) = (free(), free());
    let child = Command::new(env!("CARGO_BIN_EXE_voltgate"))
        .arg("serve")
        .current_dir(std::env::temp_dir())
        .env("VOLTGATE__DATABASE__URL", &config.database.url)
        .env("VOLTGATE__OCPP__LISTEN", ocpp.to_string())
        .env("VOLTGATE__API__LISTEN", api.to_string())
        .env("VOLTGATE__CLUSTER__NATS_URL", nats)
        .env("VOLTGATE__CLUSTER__PREFIX", prefix)
        .env("VOLTGATE__CLUSTER__NODE_ID", id)
        .env("VOLTGATE__CLUSTER__LEASE_S", LEASE_S.to_string())
        .env("VOLTGATE__CLUSTER__SECRET", SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start voltgate");
    (Node(child), format!("ws://{ocpp}/ocpp"), format!("http://{api}"))
}

#[tokio::test]
async fn a_charger_on_a_killed_node_answers_409_not_a_hang_until_it_reconnects_to_another() {
    let Some(nats) = nats_url() else { return };
    let prefix = fresh_prefix();
    let b = TestServer::start_with(clustered(&nats, &prefix, "node-b")).await;
    b.register("CP-K", PW).await;
    let (mut node_a, ocpp_a, api_a) = spawn_node(&b.config, &nats, &prefix, "node-a");
    let mut ready = false;
    for _ in 0..200 {
        if reqwest::get(format!("{api_a}/healthz")).await.is_ok() {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "node A answers");

    let mut cp = TestCharger::connect(&ocpp_a, "CP-K", "1.6", Some(PW))
        .await
        .expect("charger connects to A");
    boot(&mut cp).await;
    let via_b = b.admin().await;
    wait_online(&via_b, "CP-K", true).await;
    wait_dashboard(&via_b, counts(1, 1, 0, json!({}))).await;

    // kill -9: no drain, its claim stays in the bucket.
    node_a.0.kill().expect("kill node A");
    node_a.0.wait().expect("reap node A");

    // Within the lease NATS knows nobody answers for A; after it, B no longer counts A.
    let asked = Instant::now();
    let (status, body) = via_b.post("/chargers/CP-K/reset", json!({"type": "soft"})).await;
    assert_eq!(
        (status, body["error"].clone()),
        (409, json!("charger_offline")),
        "{body}"
    );
    // Not a wait for the call timeout: NATS says at once that nobody answers for A.
    assert!(
        asked.elapsed() < Duration::from_secs(LEASE_S),
        "409 after {:?}, beyond the lease",
        asked.elapsed()
    );
    wait_online(&via_b, "CP-K", false).await;
    // No event says so: B's dashboard stops counting it online when the lease runs out.
    wait_dashboard(&via_b, counts(1, 0, 0, json!({}))).await;
    let (status, body) = via_b.post("/chargers/CP-K/reset", json!({"type": "soft"})).await;
    assert_eq!(
        (status, body["error"].clone()),
        (409, json!("charger_offline")),
        "{body}"
    );

    // The charger notices its node is gone and reconnects to the other: B takes it over
    // although A's claim was never released, and commands reach it there.
    drop(cp);
    let mut cp = TestCharger::connect(&b.ocpp_base(), "CP-K", "1.6", Some(PW))
        .await
        .expect("charger reconnects to B");
    boot(&mut cp).await;
    wait_online(&via_b, "CP-K", true).await;
    let (status, body) = reset(&via_b, &mut cp, "CP-K").await;
    assert_eq!(status, 200, "{body}");

    drop(cp);
    remove_buckets(&nats, &prefix).await;
}

/// Node subjects take only requests signed with the cluster key: a forged one (unsigned, or
/// signed with another key) reaches no charger and is logged.
#[tokio::test]
async fn a_forged_request_on_a_node_subject_is_refused_and_logged() {
    let Some(nats) = nats_url() else { return };
    let prefix = fresh_prefix();
    let b = TestServer::start_with(clustered(&nats, &prefix, "node-b")).await;
    b.register("CP-F", PW).await;
    let log_path = std::env::temp_dir().join(format!("{prefix}-node-a.log"));
    let log = std::fs::File::create(&log_path).expect("log file");
    let (_node_a, ocpp_a, api_a) = spawn_node_logging(&b.config, &nats, &prefix, "node-a", log);
    for _ in 0..200 {
        if reqwest::get(format!("{api_a}/healthz")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut cp = TestCharger::connect(&ocpp_a, "CP-F", "1.6", Some(PW))
        .await
        .expect("charger connects to A");
    boot(&mut cp).await;

    let client = async_nats::connect(&nats).await.expect("NATS");
    let subject = format!("{prefix}.node.node-a");
    let unsigned = json!({"op": "call", "charger_id": "CP-F", "action": "Reset", "payload": {"type": "Hard"}});
    let body = json!({"node": "node-b", "origin": {}, "sent_ms": chrono::Utc::now().timestamp_millis(),
        "nonce": "n1", "request": unsigned.clone()})
    .to_string();
    let wrong_key = json!({"body": body, "mac": "00".repeat(32)});
    for forged in [unsigned, wrong_key] {
        client
            .publish(subject.clone(), forged.to_string().into())
            .await
            .expect("publish");
    }
    client.flush().await.expect("flush");
    let heard = tokio::time::timeout(Duration::from_millis(1500), async {
        use tokio_tungstenite::tungstenite::Message;
        loop {
            match futures_util::StreamExt::next(&mut cp.ws).await {
                Some(Ok(Message::Text(text))) => return Some(text.to_string()),
                Some(Ok(_)) => continue,
                _ => return None,
            }
        }
    })
    .await;
    assert!(heard.is_err(), "the charger got nothing: {heard:?}");

    let mut logged = 0;
    for _ in 0..50 {
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        logged = text.matches("refused a request on the node subject").count();
        if logged >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(logged, 2, "both forgeries logged");
    // The cluster itself still works: a signed relay from B reaches the charger.
    let via_b = b.admin().await;
    wait_online(&via_b, "CP-F", true).await;
    let (status, body) = reset(&via_b, &mut cp, "CP-F").await;
    assert_eq!(status, 200, "{body}");
    let _ = std::fs::remove_file(&log_path);
    remove_buckets(&nats, &prefix).await;
}

/// A NATS server of this test's own (JetStream on, state in a temp dir), on a free port.
struct PrivateNats {
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl PrivateNats {
    fn start() -> Option<Self> {
        let found = Command::new("nats-server")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            let _ = writeln!(
                std::io::stderr(),
                "note: no nats-server installed: the NATS-loss test is skipped"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut nats = Self {
            dir: tempfile::tempdir().expect("temp dir"),
            port,
            child: None,
        };
        nats.resume();
        Some(nats)
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn resume(&mut self) {
        let child = Command::new("nats-server")
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// kill -9: no goodbye to anyone.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        self.kill();
    }
}

/// NATS lost under a cluster (issue 25, part 3): a command for a charger on the other node
/// answers 409 at once instead of waiting out its timeout, each node keeps serving its own
/// chargers, and relayed commands work again once NATS is back, with no second session.
#[tokio::test]
async fn with_nats_gone_nodes_serve_their_own_and_relayed_commands_fail_fast_then_recover() {
    let Some(mut nats) = PrivateNats::start() else { return };
    let url = nats.url();
    let prefix = fresh_prefix();
    let long_lease = |c: &mut Config| c.cluster.lease_s = 60;
    let a = TestServer::start_with(clustered_then(&url, &prefix, "node-a", long_lease)).await;
    let b = a.join(clustered_then(&url, &prefix, "node-b", long_lease)).await;
    a.register("CP-N", PW).await;
    let mut cp = a.charger("CP-N", "1.6", PW).await;
    boot(&mut cp).await;
    let (via_a, via_b) = (a.admin().await, b.admin().await);
    wait_online(&via_b, "CP-N", true).await;
    let (status, body) = reset(&via_b, &mut cp, "CP-N").await;
    assert_eq!(status, 200, "{body}");

    nats.kill();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let asked = Instant::now();
    let (status, body) = via_b.post("/chargers/CP-N/reset", json!({"type": "soft"})).await;
    assert_eq!(
        (status, body["error"].clone()),
        (409, json!("charger_offline")),
        "{body}"
    );
    assert!(
        asked.elapsed() < Duration::from_secs(3),
        "answered in {:?}",
        asked.elapsed()
    );
    // A keeps serving its own charger, commands included.
    let heartbeat = cp.call_ok("Heartbeat", json!({})).await;
    assert!(heartbeat["currentTime"].is_string(), "{heartbeat}");
    let (status, body) = reset(&via_a, &mut cp, "CP-N").await;
    assert_eq!(status, 200, "{body}");

    nats.resume();
    let mut recovered = false;
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (api, path) = (via_b.clone(), "/chargers/CP-N/reset".to_owned());
        let request = tokio::spawn(async move { api.post(&path, json!({"type": "hard"})).await });
        // Answer the CALL if it reaches the charger; a refusal comes back without one.
        if let Some(call) = cp.recv_within(Duration::from_secs(2)).await {
            assert_eq!(call[2], json!("Reset"), "{call}");
            cp.send_raw(&json!([3, call[1], {"status": "Accepted"}]).to_string())
                .await;
        }
        let (status, _) = request.await.expect("request task");
        if status == 200 {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "relayed commands work again once NATS is back");
    // Still one session: A serves the charger, B relays to it.
    let heartbeat = cp.call_ok("Heartbeat", json!({})).await;
    assert!(heartbeat["currentTime"].is_string(), "{heartbeat}");
    let (_, charger) = via_b.get("/chargers/CP-N").await;
    assert_eq!(charger["online"], json!(true), "{charger}");
}

#[tokio::test]
async fn a_console_tab_on_one_node_hears_live_of_a_charger_on_the_other() {
    let Some(nats) = nats_url() else { return };
    let prefix = fresh_prefix();
    let mut a = TestServer::start_with(clustered(&nats, &prefix, "node-a")).await;
    let mut b = a.join(clustered(&nats, &prefix, "node-b")).await;
    a.register("CP-LIVE", PW).await;
    let tab = common::console::Console::login(&b, "admin", common::ADMIN_PASSWORD).await;
    let mut stream = tab.live().await;
    assert_eq!(stream.status, 200);

    let mut cp = a.charger("CP-LIVE", "1.6", PW).await;
    boot(&mut cp).await;
    let heard = stream.next_chargers(Duration::from_secs(5)).await;
    assert_eq!(
        heard,
        Some(json!({"chargers": ["CP-LIVE"]})),
        "node B's tab hears of node A's charger"
    );

    b.stop().await;
    a.stop().await;
    remove_buckets(&nats, &prefix).await;
}

#[tokio::test]
async fn a_dashboard_on_one_node_counts_the_chargers_of_the_other_as_they_change() {
    let Some(nats) = nats_url() else { return };
    let prefix = fresh_prefix();
    let mut a = TestServer::start_with(clustered(&nats, &prefix, "node-a")).await;
    let mut b = a.join(clustered(&nats, &prefix, "node-b")).await;
    let via_b = b.admin().await;
    // Registered through A after B built its tally: B hears of it from A.
    for _ in 0..200 {
        if b.server().state.tally.is_built() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    a.register("CP-COUNT", PW).await;
    wait_dashboard(&via_b, counts(1, 0, 0, json!({}))).await;

    let mut cp = a.charger("CP-COUNT", "1.6", PW).await;
    boot(&mut cp).await;
    let faulted = json!({"connectorId": 1, "errorCode": "GroundFailure", "status": "Faulted",
        "timestamp": "2026-12-07T10:00:00Z"});
    cp.call_ok("StatusNotification", faulted).await;
    wait_dashboard(&via_b, counts(1, 1, 1, json!({"Faulted": 1}))).await;

    drop(cp);
    wait_dashboard(&via_b, counts(1, 0, 1, json!({"Faulted": 1}))).await;

    b.stop().await;
    a.stop().await;
    remove_buckets(&nats, &prefix).await;
}
