//! `fault-bench`: the faults a test cannot afford, against a real `voltgate serve` this program
//! starts (and kills) itself, from its own process, over real WebSockets and HTTP.
//!
//! ```text
//! cargo build --release
//! cargo run --release --example fault_bench -- crash --rounds 20 --chargers 200
//! cargo run --release --example fault_bench -- soak --chargers 10000 --soak-min 60
//! ```
//!
//! - `crash`: chargers (1.6 and 2.0.1 alternating) boot and send MeterValues back to back, one
//!   in flight, each value unique; the server gets `kill -9` at a random moment, is started
//!   again, the chargers reconnect and boot again, `--rounds` times. Then every value and
//!   every boot a charger had acknowledged is looked for in the database.
//! - `soak`: chargers heartbeat, send MeterValues and change status at fixed periods and
//!   answer the resets the bench sends through the API while it reads the dashboard, for
//!   `--soak-min` minutes. The server's RSS and open files are sampled; their slope after the
//!   warm-up and the errors per period are printed.
//!
//! The server runs over a SQLite file in a temporary directory unless `--database-url` names
//! another (it must be empty or voltgate's own).

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use chrono::Utc;
use clap::{Parser, Subcommand};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

#[path = "support/mod.rs"]
mod support;

#[derive(Debug, Parser)]
#[command(name = "fault-bench")]
struct Args {
    /// The voltgate binary to run.
    #[arg(long, default_value = "target/release/voltgate")]
    bin: String,
    /// The server's database (default: a SQLite file in a temporary directory).
    #[arg(long)]
    database_url: Option<String>,
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Debug, Subcommand)]
enum Scenario {
    /// kill -9 under meter and boot load, repeated; counts what was acknowledged.
    Crash {
        #[arg(long, default_value_t = 20)]
        rounds: usize,
        #[arg(long, default_value_t = 200)]
        chargers: usize,
        /// Load before each kill: a random time between these (ms).
        #[arg(long, default_value_t = 1000)]
        min_ms: u64,
        #[arg(long, default_value_t = 4000)]
        max_ms: u64,
    },
    /// A long run of ordinary traffic; RSS and open files sampled.
    Soak {
        #[arg(long, default_value_t = 10_000)]
        chargers: usize,
        #[arg(long, default_value_t = 60)]
        soak_min: u64,
        /// Minutes left out of the slope (connections and caches settling).
        #[arg(long, default_value_t = 5)]
        warmup_min: u64,
        #[arg(long, default_value_t = 60)]
        heartbeat_s: u64,
        #[arg(long, default_value_t = 30)]
        meter_s: u64,
        #[arg(long, default_value_t = 300)]
        status_s: u64,
        /// Remote resets through the API per second, across the fleet.
        #[arg(long, default_value_t = 1)]
        resets_per_s: u64,
        /// Dashboard reads per second.
        #[arg(long, default_value_t = 1)]
        dashboards_per_s: u64,
    },
}

const PASSWORD: &str = "fault-bench-charger-password";
const ADMIN_PASSWORD: &str = "fault-bench-admin-password";

fn id_of(i: usize) -> String {
    format!("FB-{i:06}")
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The server under test: one `voltgate serve` at a time, on fixed ports so chargers find it
/// again after a restart.
struct Server {
    bin: String,
    db: String,
    ocpp: u16,
    api: u16,
    log: std::path::PathBuf,
    /// Extra `VOLTGATE__...` settings.
    env: Vec<(&'static str, String)>,
    child: Option<Child>,
}

impl Server {
    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env("VOLTGATE__DATABASE__URL", &self.db)
            .env("VOLTGATE__OCPP__LISTEN", format!("127.0.0.1:{}", self.ocpp))
            .env("VOLTGATE__API__LISTEN", format!("127.0.0.1:{}", self.api))
            .env("VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (*k, v)));
        c
    }

    async fn start(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        let child = self
            .command(&["serve"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.bin))?;
        self.child = Some(child);
        for _ in 0..300 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.ocpp)).await.is_ok()
                && tokio::net::TcpStream::connect(("127.0.0.1", self.api)).await.is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("voltgate did not listen within 15 s (log: {})", self.log.display())
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill()?;
            c.wait()?;
        }
        Ok(())
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").args(["-TERM", &c.id().to_string()]).status();
            let _ = c.wait();
        }
    }

    fn ocpp_url(&self, id: &str) -> String {
        format!("ws://127.0.0.1:{}/ocpp/{id}", self.ocpp)
    }

    fn api_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/api/v1{path}", self.api)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Registers `count` chargers in the database of the running server (its bootstrap made
/// the root organisation they go in).
async fn register(server: &Server, count: usize) -> anyhow::Result<()> {
    let ids: Vec<String> = (0..count).map(id_of).collect();
    support::register_chargers(&server.db, &ids, PASSWORD).await
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(url: &str, i: usize) -> anyhow::Result<Ws> {
    let mut request = url.into_client_request()?;
    let proto = if i % 2 == 0 { "ocpp1.6" } else { "ocpp2.0.1" };
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(proto));
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{}:{PASSWORD}", id_of(i)));
    request
        .headers_mut()
        .insert("Authorization", HeaderValue::from_str(&format!("Basic {token}"))?);
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

fn boot(i: usize, firmware: &str) -> Value {
    if i % 2 == 0 {
        json!({"chargePointVendor": "Bench", "chargePointModel": "Fault-16", "firmwareVersion": firmware})
    } else {
        json!({"reason": "PowerUp", "chargingStation": {"vendorName": "Bench", "model": "Fault-201", "firmwareVersion": firmware}})
    }
}

/// MeterValues with the given energy register readings (Wh).
fn meter(i: usize, values: &[u64]) -> Value {
    let now = Utc::now().to_rfc3339();
    if i % 2 == 0 {
        let sampled: Vec<Value> = values
            .iter()
            .map(|v| json!({"value": v.to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}))
            .collect();
        json!({"connectorId": 1, "meterValue": [{"timestamp": now, "sampledValue": sampled}]})
    } else {
        let sampled: Vec<Value> = values
            .iter()
            .map(|v| json!({"value": v, "measurand": "Energy.Active.Import.Register"}))
            .collect();
        json!({"evseId": 1, "meterValue": [{"timestamp": now, "sampledValue": sampled}]})
    }
}

fn status(i: usize, busy: bool) -> Value {
    if i % 2 == 0 {
        let s = if busy { "Charging" } else { "Available" };
        json!({"connectorId": 1, "errorCode": "NoError", "status": s})
    } else {
        let s = if busy { "Occupied" } else { "Available" };
        json!({"timestamp": Utc::now().to_rfc3339(), "connectorStatus": s, "evseId": 1, "connectorId": 1})
    }
}

/// How a CALL ended.
enum Outcome {
    Result(Value),
    Error,
    /// No answer in time, or the connection ended.
    Lost,
}

/// Sends a CALL and waits for its answer, answering the server's own CALLs meanwhile
/// (Accepted, whatever they are).
async fn call(ws: &mut Ws, mid: &str, action: &str, payload: Value, wait: Duration) -> Outcome {
    let frame = json!([2, mid, action, payload]).to_string();
    if ws.send(Message::Text(frame.into())).await.is_err() {
        return Outcome::Lost;
    }
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(m))) => m,
            _ => return Outcome::Lost,
        };
        let Message::Text(t) = msg else { continue };
        let Ok(v) = serde_json::from_str::<Value>(&t) else {
            continue;
        };
        match v[0].as_u64() {
            Some(2) => {
                let answer = json!([3, v[1], {"status": "Accepted"}]).to_string();
                if ws.send(Message::Text(answer.into())).await.is_err() {
                    return Outcome::Lost;
                }
            }
            Some(3) if v[1] == mid => return Outcome::Result(v[2].clone()),
            Some(4) if v[1] == mid => return Outcome::Error,
            _ => {}
        }
    }
}

/// A 64-bit xorshift: random kill times without another dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo).max(1)
    }
}

/// What one charger of the crash scenario sent and had acknowledged.
#[derive(Default)]
struct Ledger {
    acknowledged: Vec<u64>,
    /// Boots in the order sent: (firmware version, acknowledged).
    boots: Vec<(String, bool)>,
    refused: u64,
    lost: u64,
    reconnects: u64,
}

async fn crash_charger(url: String, i: usize, stop: Arc<AtomicBool>) -> Ledger {
    let mut ledger = Ledger::default();
    let mut seq = 0u64;
    let mut first = true;
    while !stop.load(Ordering::Relaxed) {
        let mut ws = match connect(&url, i).await {
            Ok(ws) => ws,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(100 + (i as u64 * 37) % 200)).await;
                continue;
            }
        };
        if !first {
            ledger.reconnects += 1;
        }
        first = false;
        let firmware = format!("fw-{}", ledger.boots.len());
        ledger.boots.push((firmware.clone(), false));
        match call(
            &mut ws,
            "b",
            "BootNotification",
            boot(i, &firmware),
            Duration::from_secs(30),
        )
        .await
        {
            Outcome::Result(r) if r["status"] == "Accepted" => {
                if let Some(last) = ledger.boots.last_mut() {
                    last.1 = true;
                }
            }
            Outcome::Result(_) | Outcome::Error => {
                ledger.refused += 1;
                continue;
            }
            Outcome::Lost => {
                ledger.lost += 1;
                continue;
            }
        }
        while !stop.load(Ordering::Relaxed) {
            seq += 1;
            // Unique across chargers and messages: i, then a sequence, then the sample.
            let values: Vec<u64> = (0..3).map(|k| (i as u64 + 1) * 1_000_000_000 + seq * 10 + k).collect();
            match call(
                &mut ws,
                &format!("m{seq}"),
                "MeterValues",
                meter(i, &values),
                Duration::from_secs(30),
            )
            .await
            {
                Outcome::Result(_) => ledger.acknowledged.extend(values),
                Outcome::Error => ledger.refused += 1,
                Outcome::Lost => {
                    ledger.lost += 1;
                    break;
                }
            }
        }
    }
    ledger
}

async fn crash(server: &mut Server, rounds: usize, chargers: usize, min_ms: u64, max_ms: u64) -> anyhow::Result<()> {
    server.env.push(("VOLTGATE__OCPP__RATE_LIMIT_PER_S", "0".into()));
    server.start().await?;
    register(server, chargers).await?;
    let stop = Arc::new(AtomicBool::new(false));
    let tasks: Vec<_> = (0..chargers)
        .map(|i| tokio::spawn(crash_charger(server.ocpp_url(&id_of(i)), i, Arc::clone(&stop))))
        .collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let started = Instant::now();
    let mut downtime = Duration::ZERO;
    for round in 1..=rounds {
        tokio::time::sleep(Duration::from_millis(rng.between(min_ms, max_ms))).await;
        server.kill()?;
        let down = Instant::now();
        server.start().await?;
        downtime += down.elapsed();
        eprintln!("crash: round {round}/{rounds}: killed and restarted");
    }
    // A last stretch of load after the last restart, then everyone stops.
    tokio::time::sleep(Duration::from_millis(max_ms)).await;
    stop.store(true, Ordering::Relaxed);
    let mut ledgers = Vec::new();
    for t in tasks {
        ledgers.push(t.await?);
    }
    let elapsed = started.elapsed();
    server.stop();

    let db = sea_orm::Database::connect(&server.db).await?;
    let backend = db.get_database_backend();
    let rows = db
        .query_all(Statement::from_string(
            backend,
            "SELECT CAST(value AS BIGINT) FROM meter_value".to_owned(),
        ))
        .await?;
    let stored: HashSet<i64> = rows.iter().filter_map(|r| r.try_get_by_index::<i64>(0).ok()).collect();
    let rows = db
        .query_all(Statement::from_string(
            backend,
            "SELECT id, firmware_version FROM charger".to_owned(),
        ))
        .await?;
    let firmware: HashMap<String, String> = rows
        .iter()
        .filter_map(|r| Some((r.try_get_by_index(0).ok()?, r.try_get_by_index(1).ok()?)))
        .collect();

    let acknowledged: usize = ledgers.iter().map(|l| l.acknowledged.len()).sum();
    let lost_values: usize = ledgers
        .iter()
        .flat_map(|l| &l.acknowledged)
        .filter(|v| !stored.contains(&(**v as i64)))
        .count();
    let (mut boots_acked, mut boots_lost) = (0, 0);
    for (i, l) in ledgers.iter().enumerate() {
        boots_acked += l.boots.iter().filter(|b| b.1).count();
        // The stored boot is the last acknowledged one, or one sent after it (committed, but
        // the kill came before the answer left).
        let Some(last_acked) = l.boots.iter().rposition(|b| b.1) else {
            continue;
        };
        let stored = firmware.get(&id_of(i)).map(String::as_str);
        if !l.boots[last_acked..].iter().any(|b| Some(b.0.as_str()) == stored) {
            boots_lost += 1;
        }
    }
    let refused: u64 = ledgers.iter().map(|l| l.refused).sum();
    let cut: u64 = ledgers.iter().map(|l| l.lost).sum();
    let reconnects: u64 = ledgers.iter().map(|l| l.reconnects).sum();
    println!(
        "fault-bench crash: {rounds} kill -9 rounds, {chargers} chargers (1.6 and 2.0.1), {:.0} s",
        elapsed.as_secs_f64()
    );
    println!(
        "  values acknowledged {acknowledged}, stored rows {}, acknowledged but missing {lost_values}",
        stored.len()
    );
    println!("  boots acknowledged {boots_acked}, chargers whose last acknowledged boot is missing {boots_lost}");
    println!("  CALLs refused {refused}, cut by a kill {cut}, reconnections {reconnects}");
    println!(
        "  restart to listening: mean {:.2} s",
        downtime.as_secs_f64() / rounds.max(1) as f64
    );
    if lost_values > 0 || boots_lost > 0 {
        bail!("acknowledged data lost");
    }
    Ok(())
}

/// Counters of the soak, per sampling period.
#[derive(Default)]
struct Counters {
    answered: AtomicU64,
    refused: AtomicU64,
    lost: AtomicU64,
    disconnects: AtomicU64,
}

struct SoakPlan {
    heartbeat: Duration,
    meter: Duration,
    status: Duration,
}

async fn soak_charger(url: String, i: usize, plan: Arc<SoakPlan>, counters: Arc<Counters>, stop: Arc<AtomicBool>) {
    // Spread the chargers' periods over the period, as real fleets are.
    let offset = |p: Duration| Duration::from_millis((i as u64 * 7919) % p.as_millis().max(1) as u64);
    let mut seq = 0u64;
    let mut busy = false;
    while !stop.load(Ordering::Relaxed) {
        let Ok(mut ws) = connect(&url, i).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        if !matches!(
            call(
                &mut ws,
                "b",
                "BootNotification",
                boot(i, "soak"),
                Duration::from_secs(60)
            )
            .await,
            Outcome::Result(_)
        ) {
            counters.disconnects.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let now = tokio::time::Instant::now();
        let mut next_heartbeat = now + offset(plan.heartbeat);
        let mut next_meter = now + offset(plan.meter);
        let mut next_status = now + offset(plan.status);
        while !stop.load(Ordering::Relaxed) {
            let due = next_heartbeat.min(next_meter).min(next_status);
            // Between messages, answer what the server sends (resets).
            let idle = tokio::time::timeout_at(due, ws.next()).await;
            match idle {
                Ok(Some(Ok(Message::Text(t)))) => {
                    if let Ok(v) = serde_json::from_str::<Value>(&t)
                        && v[0] == 2
                    {
                        let answer = json!([3, v[1], {"status": "Accepted"}]).to_string();
                        if ws.send(Message::Text(answer.into())).await.is_err() {
                            break;
                        }
                    }
                    continue;
                }
                Ok(Some(Ok(_))) => continue,
                Ok(_) => break,
                Err(_) => {}
            }
            seq += 1;
            let now = tokio::time::Instant::now();
            let (action, payload) = if now >= next_status {
                next_status += plan.status;
                busy = !busy;
                ("StatusNotification", status(i, busy))
            } else if now >= next_meter {
                next_meter += plan.meter;
                ("MeterValues", meter(i, &[seq * 100]))
            } else {
                next_heartbeat += plan.heartbeat;
                ("Heartbeat", json!({}))
            };
            match call(&mut ws, &format!("s{seq}"), action, payload, Duration::from_secs(30)).await {
                Outcome::Result(_) => counters.answered.fetch_add(1, Ordering::Relaxed),
                Outcome::Error => counters.refused.fetch_add(1, Ordering::Relaxed),
                Outcome::Lost => {
                    counters.lost.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            };
        }
        counters.disconnects.fetch_add(1, Ordering::Relaxed);
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

fn open_files(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// Least-squares slope of `ys` over `xs`.
fn slope(xs: &[f64], ys: &[f64]) -> f64 {
    let n = xs.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
    let num: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let den: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    if den == 0.0 { 0.0 } else { num / den }
}

/// The API side of the soak: resets to random chargers and dashboard reads, with their
/// status codes and latencies.
#[derive(Default)]
struct ApiSeen {
    resets: HashMap<u16, u64>,
    dashboards: Vec<Duration>,
    dashboard_errors: u64,
}

async fn soak_api(
    server_api: String,
    chargers: usize,
    resets_per_s: u64,
    dashboards_per_s: u64,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<ApiSeen>>,
) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let login: Value = client
        .post(format!("{server_api}/login"))
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().context("login token")?.to_owned();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        n += 1;
        // Each tenth of a second: a tenth of the per-second rates (rounded by counting).
        if resets_per_s > 0 && n % (10 / resets_per_s.min(10)) == 0 {
            let id = id_of(rng.between(0, chargers as u64) as usize);
            let (client, token, url, seen) = (
                client.clone(),
                token.clone(),
                format!("{server_api}/chargers/{id}/reset"),
                Arc::clone(&seen),
            );
            tokio::spawn(async move {
                let code = match client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({"type": "soft"}))
                    .send()
                    .await
                {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                *seen.lock().await.resets.entry(code).or_default() += 1;
            });
        }
        if dashboards_per_s > 0 && n % (10 / dashboards_per_s.min(10)) == 0 {
            let asked = Instant::now();
            let ok = client
                .get(format!("{server_api}/dashboard"))
                .bearer_auth(&token)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            let mut s = seen.lock().await;
            if ok {
                s.dashboards.push(asked.elapsed());
            } else {
                s.dashboard_errors += 1;
            }
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn soak(
    server: &mut Server,
    chargers: usize,
    soak_min: u64,
    warmup_min: u64,
    plan: SoakPlan,
    resets_per_s: u64,
    dashboards_per_s: u64,
) -> anyhow::Result<()> {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    server.start().await?;
    register(server, chargers).await?;
    let pid = server.pid().context("server pid")?;
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let plan = Arc::new(plan);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..chargers {
        tasks.push(tokio::spawn(soak_charger(
            server.ocpp_url(&id_of(i)),
            i,
            Arc::clone(&plan),
            Arc::clone(&counters),
            Arc::clone(&stop),
        )));
        // Connect at a steady pace rather than as a storm: the soak is about staying flat.
        if i % 500 == 499 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let api_seen = Arc::new(Mutex::new(ApiSeen::default()));
    let api = tokio::spawn(soak_api(
        server.api_url(""),
        chargers,
        resets_per_s,
        dashboards_per_s,
        Arc::clone(&stop),
        Arc::clone(&api_seen),
    ));

    let period = Duration::from_secs(60);
    let (mut minutes, mut rss, mut fds) = (Vec::new(), Vec::new(), Vec::new());
    println!(
        "fault-bench soak: {chargers} chargers for {soak_min} min (warm-up {warmup_min} min left out of the slopes)"
    );
    println!(
        "{:>4} {:>10} {:>7} {:>9} {:>8} {:>6} {:>8}",
        "min", "rss_kib", "fds", "answered", "refused", "lost", "reconn"
    );
    let mut last = [0u64; 4];
    for minute in 1..=soak_min {
        tokio::time::sleep_until(tokio::time::Instant::from_std(started + period * minute as u32)).await;
        let (r, f) = (rss_kib(pid).context("server gone")?, open_files(pid).unwrap_or(0));
        let now = [
            counters.answered.load(Ordering::Relaxed),
            counters.refused.load(Ordering::Relaxed),
            counters.lost.load(Ordering::Relaxed),
            counters.disconnects.load(Ordering::Relaxed),
        ];
        println!(
            "{minute:>4} {r:>10} {f:>7} {:>9} {:>8} {:>6} {:>8}",
            now[0] - last[0],
            now[1] - last[1],
            now[2] - last[2],
            now[3] - last[3]
        );
        last = now;
        if minute > warmup_min {
            minutes.push(minute as f64);
            rss.push(r as f64);
            fds.push(f as f64);
        }
    }
    stop.store(true, Ordering::Relaxed);
    api.await??;
    server.stop();
    for t in tasks {
        let _ = t.await;
    }
    let rss_slope = slope(&minutes, &rss);
    let fd_slope = slope(&minutes, &fds);
    let mean_rss = rss.iter().sum::<f64>() / rss.len().max(1) as f64;
    let seen = api_seen.lock().await;
    let mut dash = seen.dashboards.clone();
    dash.sort();
    let p = |q: f64| {
        dash.get(((dash.len().max(1) - 1) as f64 * q) as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "after warm-up: RSS slope {rss_slope:+.0} KiB/min ({:+.3} %/hour of the mean {mean_rss:.0} KiB), open files slope {fd_slope:+.2}/min",
        rss_slope * 60.0 / mean_rss.max(1.0) * 100.0
    );
    println!(
        "totals: answered {}, refused {}, lost {}, reconnections {}",
        last[0], last[1], last[2], last[3]
    );
    println!(
        "API: resets by status {:?}; dashboards {} (p50 {:.1} ms, p99 {:.1} ms), failed {}",
        seen.resets,
        dash.len(),
        p(0.5),
        p(0.99),
        seen.dashboard_errors
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let db = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("voltgate.db").display()));
    let mut server = Server {
        bin: args.bin.clone(),
        db,
        ocpp: free_port()?,
        api: free_port()?,
        log: dir.path().join("server.log"),
        env: Vec::new(),
        child: None,
    };
    let result = match args.scenario {
        Scenario::Crash {
            rounds,
            chargers,
            min_ms,
            max_ms,
        } => crash(&mut server, rounds, chargers, min_ms, max_ms).await,
        Scenario::Soak {
            chargers,
            soak_min,
            warmup_min,
            heartbeat_s,
            meter_s,
            status_s,
            resets_per_s,
            dashboards_per_s,
        } => {
            let plan = SoakPlan {
                heartbeat: Duration::from_secs(heartbeat_s),
                meter: Duration::from_secs(meter_s),
                status: Duration::from_secs(status_s),
            };
            soak(
                &mut server,
                chargers,
                soak_min,
                warmup_min,
                plan,
                resets_per_s,
                dashboards_per_s,
            )
            .await
        }
    };
    if result.is_err() {
        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(20).collect();
        eprintln!("server log (last lines):");
        for l in tail.iter().rev() {
            eprintln!("  {l}");
        }
    }
    result
}
