//! `voltgate-bench`: simulated charge points (1.6 and 2.0.1 mixed) against a running voltgate,
//! from a separate process, over real WebSockets; bounded in count and time.
//!
//! ```text
//! cargo run --release --example voltgate_bench -- \
//!     --database-url 'sqlite:///path/to/voltgate.db?mode=rwc' --admin-password PW \
//!     --chargers 1000 [--server-pid PID] [--resets 200] [--dashboards 20] [--heartbeat-s 10] [--json]
//! ```
//!
//! Scenarios, in order: registration (directly in the database, one shared password hash, so
//! setup does not measure argon2), boot storm (connect + BootNotification + StatusNotification
//! for all at once), heartbeat throughput, meter values (every charger once a second, rows
//! counted in the database), and remote reset latency through the HTTP API while all are
//! connected. With `--server-pid` it reads the server's RSS from /proc before and
//! after connecting. Client sockets are spread over 127.0.0.2.. so one address's ephemeral
//! ports are never the limit.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use chrono::Utc;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

#[path = "support/mod.rs"]
mod support;

#[derive(Debug, Parser)]
#[command(name = "voltgate-bench")]
struct Args {
    #[arg(long, default_value = "ws://127.0.0.1:9000/ocpp")]
    ocpp_url: String,
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    api_url: String,
    /// The server's database, to register the simulated chargers in one go.
    #[arg(long, required_unless_present = "plain")]
    database_url: Option<String>,
    /// Target is not voltgate (the ceiling helper or a peer CSMS): no registration, no
    /// database counts, no HTTP API; only connect, boot and heartbeat scenarios.
    #[arg(long)]
    plain: bool,
    #[arg(long, default_value = "admin")]
    admin_user: String,
    #[arg(long, default_value = "")]
    admin_password: String,
    #[arg(long, default_value_t = 1000)]
    chargers: usize,
    /// Connections opened at once during the boot storm.
    #[arg(long, default_value_t = 500)]
    concurrency: usize,
    /// Client source addresses 127.0.0.2 .. 127.0.0.(1+N).
    #[arg(long, default_value_t = 8)]
    source_addresses: u8,
    /// Seconds of heartbeat load (0: skip).
    #[arg(long, default_value_t = 10)]
    heartbeat_s: u64,
    /// Seconds of MeterValues, one message of 3 values per charger per second (0: skip).
    #[arg(long, default_value_t = 0)]
    meter_s: u64,
    /// Flood: this many extra chargers send heartbeats back to back without waiting for
    /// answers, while every other charger sends one a second (0: skip).
    #[arg(long, default_value_t = 0)]
    flooders: usize,
    /// Seconds of each flood phase (without, then with the flooders).
    #[arg(long, default_value_t = 10)]
    flood_s: u64,
    /// Remote resets through the HTTP API (0: skip).
    #[arg(long, default_value_t = 200)]
    resets: usize,
    /// Resets in flight at once (each to a different charger).
    #[arg(long, default_value_t = 4)]
    reset_concurrency: usize,
    /// Dashboards fetched while everything is connected, as JSON (`/api/v1/dashboard`) and as
    /// the console's page (`/`), one after the other (0: skip).
    #[arg(long, default_value_t = 20)]
    dashboards: usize,
    /// The server's pid, to read its RSS (and, with --restart-cmd, to kill it).
    #[arg(long)]
    server_pid: Option<u32>,
    /// Reconnect storm: SIGKILL the server (--server-pid), run this shell command to start it
    /// again, and time until every charger is back and booted.
    #[arg(long)]
    restart_cmd: Option<String>,
    /// Stop everything after this many seconds.
    #[arg(long, default_value_t = 600)]
    max_s: u64,
    #[arg(long)]
    json: bool,
}

const PASSWORD: &str = "bench-charger-password";

fn id_of(i: usize) -> String {
    format!("BENCH-{i:06}")
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Registers the simulated chargers in the root organisation with one shared password.
async fn register(args: &Args) -> anyhow::Result<()> {
    let url = args.database_url.as_deref().context("--database-url is required")?;
    let ids: Vec<String> = (0..args.chargers + args.flooders).map(id_of).collect();
    support::register_chargers(url, &ids, PASSWORD)
        .await
        .context("registering the chargers in --database-url")
}

/// Commands the bench sends to a simulated charger's task.
enum Ask {
    Heartbeat(tokio::sync::oneshot::Sender<Duration>),
    /// Sends MeterValues with `SAMPLES` values; answers its latency, or `None` on a CALLERROR.
    MeterValues(tokio::sync::oneshot::Sender<Option<Duration>>),
}

/// Sampled values per MeterValues message.
const SAMPLES: usize = 3;

/// Where a simulated charger reports the answer it is waiting for.
enum Reply {
    Heartbeat(tokio::sync::oneshot::Sender<Duration>),
    Meter(tokio::sync::oneshot::Sender<Option<Duration>>),
}

struct Sim {
    asks: mpsc::Sender<Ask>,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Connects, boots and reports connector status; returns the socket and connect->boot time.
async fn connect_and_boot(args: &Args, i: usize, source: IpAddr) -> anyhow::Result<(Ws, Duration)> {
    let v16 = i % 2 == 0;
    let id = id_of(i);
    let mut request = format!("{}/{id}", args.ocpp_url).into_client_request()?;
    let proto = if v16 { "ocpp1.6" } else { "ocpp2.0.1" };
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(proto));
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{PASSWORD}"));
    request
        .headers_mut()
        .insert("Authorization", HeaderValue::from_str(&format!("Basic {token}"))?);
    let host = request.uri().host().context("host")?.to_owned();
    let port = request.uri().port_u16().unwrap_or(80);
    let server: SocketAddr = format!("{host}:{port}")
        .parse()
        .context("the OCPP URL needs an IP address")?;

    let started = Instant::now();
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    let (mut ws, _) = tokio_tungstenite::client_async(request, stream).await?;
    let boot = if v16 {
        json!([2, "b", "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "Sim-16"}])
    } else {
        json!([2, "b", "BootNotification", {"reason": "PowerUp", "chargingStation": {"vendorName": "Bench", "model": "Sim-201"}}])
    };
    // An overloaded server answers Pending with an interval: boot again after it, as a real
    // charger does (the wait counts in the connect->boot time).
    'boot: loop {
        ws.send(Message::Text(boot.to_string().into())).await?;
        loop {
            let Some(msg) = ws.next().await else {
                bail!("closed during boot")
            };
            if let Message::Text(t) = msg? {
                let v: Value = serde_json::from_str(&t)?;
                if v[1] == "b" {
                    if v[0] == 3 && v[2]["status"] == "Pending" {
                        let wait = v[2]["interval"].as_u64().unwrap_or(30).max(1);
                        tokio::time::sleep(Duration::from_secs(wait)).await;
                        continue 'boot;
                    }
                    // The ceiling answers `{}`: only a status other than Accepted is a failure.
                    if v[0] != 3 || v[2].get("status").is_some_and(|s| s != "Accepted") {
                        bail!("boot answered {v}");
                    }
                    break 'boot;
                }
            }
        }
    }
    let boot_latency = started.elapsed();
    let status = if v16 {
        json!([2, "s", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}])
    } else {
        json!([2, "s", "StatusNotification", {"timestamp": Utc::now().to_rfc3339(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1}])
    };
    ws.send(Message::Text(status.to_string().into())).await?;

    Ok((ws, boot_latency))
}

/// Connects, boots, reports status; then answers CSMS calls and heartbeats on request, and,
/// with `--restart-cmd`, reconnects (with jitter, like real chargers) when the server goes.
async fn charger(
    args: Arc<Args>,
    i: usize,
    source: IpAddr,
    answered: Arc<AtomicU64>,
    reconnected: Arc<AtomicU64>,
) -> anyhow::Result<(Sim, Duration)> {
    let v16 = i % 2 == 0;
    let (mut ws, boot_latency) = connect_and_boot(&args, i, source).await?;
    let (tx, mut rx) = mpsc::channel::<Ask>(4);
    tokio::spawn(async move {
        let mut waiting: Option<(String, Instant, Reply)> = None;
        let mut n = 0u64;
        'connection: loop {
            loop {
                tokio::select! {
                    ask = rx.recv(), if waiting.is_none() => match ask {
                        Some(Ask::Heartbeat(done)) => {
                            n += 1;
                            let mid = format!("h{n}");
                            if ws.send(Message::Text(json!([2, mid, "Heartbeat", {}]).to_string().into())).await.is_err() { break; }
                            waiting = Some((mid, Instant::now(), Reply::Heartbeat(done)));
                        }
                        Some(Ask::MeterValues(done)) => {
                            n += 1;
                            let mid = format!("m{n}");
                            let now = Utc::now().to_rfc3339();
                            let payload = if v16 {
                                json!({"connectorId": 1, "meterValue": [{"timestamp": now, "sampledValue": [
                                    {"value": (n * 10).to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
                                    {"value": "7200", "measurand": "Power.Active.Import", "unit": "W"},
                                    {"value": "230.0", "measurand": "Voltage", "unit": "V"}]}]})
                            } else {
                                json!({"evseId": 1, "meterValue": [{"timestamp": now, "sampledValue": [
                                    {"value": n * 10, "measurand": "Energy.Active.Import.Register"},
                                    {"value": 7200, "measurand": "Power.Active.Import"},
                                    {"value": 230.0, "measurand": "Voltage"}]}]})
                            };
                            if ws.send(Message::Text(json!([2, mid, "MeterValues", payload]).to_string().into())).await.is_err() { break; }
                            waiting = Some((mid, Instant::now(), Reply::Meter(done)));
                        }
                        None => break,
                    },
                    msg = ws.next() => {
                        let Some(Ok(msg)) = msg else { break };
                        let Message::Text(t) = msg else { continue };
                        let Ok(v) = serde_json::from_str::<Value>(&t) else { continue };
                        match v[0].as_u64() {
                            Some(2) => {
                                answered.fetch_add(1, Ordering::Relaxed);
                                let answer = json!([3, v[1], {"status": "Accepted"}]);
                                if ws.send(Message::Text(answer.to_string().into())).await.is_err() { break; }
                            }
                            Some(kind @ (3 | 4)) => {
                                if let Some((mid, at, done)) = waiting.take() {
                                    if v[1] == json!(mid) {
                                        match done {
                                            Reply::Heartbeat(d) => { let _ = d.send(at.elapsed()); }
                                            Reply::Meter(d) => { let _ = d.send((kind == 3).then(|| at.elapsed())); }
                                        }
                                    } else {
                                        waiting = Some((mid, at, done));
                                    }
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            // The connection ended: reconnect if the bench expects a restart, else stop.
            if args.restart_cmd.is_none() {
                break 'connection;
            }
            waiting = None;
            let mut backoff = Duration::from_millis(200 + (i as u64 * 7919) % 1000);
            loop {
                tokio::time::sleep(backoff).await;
                match connect_and_boot(&args, i, source).await {
                    Ok((again, _)) => {
                        ws = again;
                        reconnected.fetch_add(1, Ordering::Relaxed);
                        continue 'connection;
                    }
                    Err(_) => backoff = (backoff * 2).min(Duration::from_secs(5)),
                }
            }
        }
    });
    Ok((Sim { asks: tx }, boot_latency))
}

/// Every simulated charger sends one heartbeat a second for `seconds`; the latencies, sorted.
async fn paced_heartbeats(sims: &[Sim], seconds: u64) -> Vec<Duration> {
    let mut workers = Vec::new();
    for sim in sims {
        let asks = sim.asks.clone();
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            for _ in 0..seconds {
                tick.tick().await;
                let (tx, rx) = tokio::sync::oneshot::channel();
                if asks.send(Ask::Heartbeat(tx)).await.is_err() {
                    break;
                }
                if let Ok(d) = rx.await {
                    lat.push(d);
                }
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for w in workers {
        lat.extend(w.await.unwrap_or_default());
    }
    lat.sort();
    lat
}

/// A flooding charger: heartbeats back to back, never waiting for an answer; when voltgate
/// closes it, it reconnects and starts again. Counts frames sent, CALLERRORs, closes.
async fn flood(
    args: Arc<Args>,
    i: usize,
    source: IpAddr,
    stop: Arc<std::sync::atomic::AtomicBool>,
    counts: Arc<[AtomicU64; 3]>,
) {
    let frame = json!([2, "f", "Heartbeat", {}]).to_string();
    while !stop.load(Ordering::Relaxed) {
        let Ok((ws, _)) = connect_and_boot(&args, i, source).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let (mut sink, mut stream) = ws.split();
        let reader_counts = Arc::clone(&counts);
        let reader = tokio::spawn(async move {
            while let Some(Ok(msg)) = stream.next().await {
                if let Message::Text(t) = msg
                    && t.starts_with("[4")
                {
                    reader_counts[1].fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        while !stop.load(Ordering::Relaxed) {
            if sink.send(Message::Text(frame.clone().into())).await.is_err() {
                counts[2].fetch_add(1, Ordering::Relaxed);
                break;
            }
            counts[0].fetch_add(1, Ordering::Relaxed);
        }
        reader.abort();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Logs in as the bench's admin: the client, the API base URL and a bearer token.
async fn login(args: &Args) -> anyhow::Result<(reqwest::Client, String, String)> {
    let http = reqwest::Client::new();
    let base = format!("{}/api/v1", args.api_url.trim_end_matches('/'));
    let login: Value = http
        .post(format!("{base}/login"))
        .json(&json!({"username": args.admin_user, "password": args.admin_password}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["token"].as_str().context("login failed")?.to_owned();
    Ok((http, base, token))
}

/// Chargers the server says are online, counted page by page through the API.
async fn online_chargers(args: &Args) -> anyhow::Result<i64> {
    let (http, base, token) = login(args).await?;
    let (mut online, mut offset) = (0i64, 0usize);
    loop {
        let page: Value = http
            .get(format!("{base}/chargers?limit=500&offset={offset}"))
            .bearer_auth(&token)
            .send()
            .await?
            .json()
            .await?;
        let rows = page.as_array().context("a list")?;
        online += rows.iter().filter(|c| c["online"] == true).count() as i64;
        if rows.len() < 500 {
            return Ok(online);
        }
        offset += 500;
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    if args.chargers as u64 + 64 > limit {
        bail!("{} chargers need more than the open-file limit {limit}", args.chargers);
    }
    let deadline = Instant::now() + Duration::from_secs(args.max_s);
    let mut report = serde_json::Map::new();
    report.insert("chargers".into(), json!(args.chargers));

    if !args.plain {
        register(&args).await?;
    }
    let rss_before = rss_kib(args.server_pid);

    // Boot storm.
    eprintln!("boot storm: {} chargers, {} at a time", args.chargers, args.concurrency);
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let answered = Arc::new(AtomicU64::new(0));
    let reconnected = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(args.chargers);
    for i in 0..args.chargers {
        let source = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            0,
            2 + (i % usize::from(args.source_addresses.max(1))) as u8,
        ));
        let (args, gate, answered, reconnected) = (args.clone(), gate.clone(), answered.clone(), reconnected.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            charger(args, i, source, answered, reconnected).await
        }));
    }
    let mut sims = Vec::with_capacity(args.chargers);
    let mut boots = Vec::with_capacity(args.chargers);
    let mut failures = 0usize;
    let done = Arc::new(AtomicU64::new(0));
    let progress = {
        let (done, total) = (done.clone(), args.chargers);
        tokio::spawn(async move {
            loop {
                let n = done.load(Ordering::Relaxed) as usize;
                let filled = n * 40 / total.max(1);
                eprint!(
                    "\r  [{}{}] {n}/{total} booted",
                    "#".repeat(filled),
                    ".".repeat(40 - filled)
                );
                if n >= total {
                    eprintln!();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await? {
            Ok((sim, latency)) => {
                sims.push(sim);
                boots.push(latency);
            }
            Err(e) => {
                failures += 1;
                if failures <= 5 {
                    eprintln!("charger {i}: {e:#}");
                }
            }
        }
        done.store(i as u64 + 1, Ordering::Relaxed);
    }
    let _ = progress.await;
    let storm = started.elapsed();
    boots.sort();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = rss_kib(args.server_pid);
    report.insert(
        "boot_storm".into(),
        json!({"seconds": storm.as_secs_f64(), "failures": failures, "p50_ms": percentile(&boots, 0.5).as_secs_f64() * 1e3, "p99_ms": percentile(&boots, 0.99).as_secs_f64() * 1e3}),
    );
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        let per = (after.saturating_sub(before)) as f64 * 1024.0 / sims.len().max(1) as f64;
        report.insert(
            "rss".into(),
            json!({"before_kib": before, "after_kib": after, "bytes_per_connection": per}),
        );
    }

    // Heartbeat throughput: every charger sends its next heartbeat as soon as one is answered.
    if args.heartbeat_s > 0 && Instant::now() < deadline {
        eprintln!("heartbeats for {} s", args.heartbeat_s);
        let stop = Instant::now() + Duration::from_secs(args.heartbeat_s);
        let mut workers = Vec::new();
        for sim in &sims {
            let asks = sim.asks.clone();
            workers.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < stop {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    if asks.send(Ask::Heartbeat(tx)).await.is_err() {
                        break;
                    }
                    match rx.await {
                        Ok(d) => lat.push(d),
                        Err(_) => break,
                    }
                }
                lat
            }));
        }
        let mut lat = Vec::new();
        for w in workers {
            lat.extend(w.await?);
        }
        lat.sort();
        report.insert(
            "heartbeat".into(),
            json!({"calls_per_s": lat.len() as f64 / args.heartbeat_s as f64, "p50_ms": percentile(&lat, 0.5).as_secs_f64() * 1e3, "p99_ms": percentile(&lat, 0.99).as_secs_f64() * 1e3}),
        );
    }

    // Flood: do well-behaved chargers notice a few that send as fast as they can?
    if args.flooders > 0 && !args.plain && Instant::now() < deadline {
        eprintln!(
            "flood: {} s quiet, then {} s with {} flooders",
            args.flood_s, args.flood_s, args.flooders
        );
        let quiet = paced_heartbeats(&sims, args.flood_s).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)]);
        let mut flooders = Vec::new();
        for f in 0..args.flooders {
            let i = args.chargers + f;
            let source = IpAddr::V4(Ipv4Addr::new(
                127,
                0,
                0,
                2 + (i % usize::from(args.source_addresses.max(1))) as u8,
            ));
            flooders.push(tokio::spawn(flood(
                Arc::clone(&args),
                i,
                source,
                Arc::clone(&stop),
                Arc::clone(&counts),
            )));
        }
        let loud = paced_heartbeats(&sims, args.flood_s).await;
        stop.store(true, Ordering::Relaxed);
        for f in flooders {
            f.abort();
        }
        report.insert(
            "flood".into(),
            json!({"flooders": args.flooders,
                "quiet": {"count": quiet.len(), "p50_ms": percentile(&quiet, 0.5).as_secs_f64() * 1e3, "p99_ms": percentile(&quiet, 0.99).as_secs_f64() * 1e3},
                "flooded": {"count": loud.len(), "p50_ms": percentile(&loud, 0.5).as_secs_f64() * 1e3, "p99_ms": percentile(&loud, 0.99).as_secs_f64() * 1e3},
                "flood_frames_sent": counts[0].load(Ordering::Relaxed),
                "flood_callerrors": counts[1].load(Ordering::Relaxed),
                "flood_connections_closed": counts[2].load(Ordering::Relaxed)}),
        );
    }

    // Meter values: every charger, once a second, with the rows counted in the database.
    if args.meter_s > 0 && !args.plain && Instant::now() < deadline {
        eprintln!("meter values for {} s", args.meter_s);
        let db = sea_orm::Database::connect(args.database_url.as_deref().unwrap_or_default()).await?;
        let count = || async {
            use sea_orm::{EntityTrait, PaginatorTrait};
            entity::meter_value::Entity::find().count(&db).await
        };
        let before = count().await?;
        let started = Instant::now();
        let mut workers = Vec::new();
        for sim in &sims {
            let (asks, seconds) = (sim.asks.clone(), args.meter_s);
            workers.push(tokio::spawn(async move {
                let (mut lat, mut failed) = (Vec::new(), 0usize);
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                for _ in 0..seconds {
                    tick.tick().await;
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    if asks.send(Ask::MeterValues(tx)).await.is_err() {
                        failed += 1;
                        continue;
                    }
                    match rx.await {
                        Ok(Some(d)) => lat.push(d),
                        _ => failed += 1,
                    }
                }
                (lat, failed)
            }));
        }
        let (mut lat, mut failed) = (Vec::new(), 0usize);
        for w in workers {
            let (l, f) = w.await?;
            lat.extend(l);
            failed += f;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let persisted = count().await?.saturating_sub(before);
        lat.sort();
        report.insert(
            "meter_values".into(),
            json!({"values_per_s": persisted as f64 / elapsed, "persisted": persisted, "expected": lat.len() * SAMPLES, "failed_messages": failed,
                   "p50_ms": percentile(&lat, 0.5).as_secs_f64() * 1e3, "p99_ms": percentile(&lat, 0.99).as_secs_f64() * 1e3}),
        );
    }

    // Remote resets through the API while everything stays connected.
    if args.resets > 0 && !args.plain && Instant::now() < deadline {
        eprintln!("{} resets through the HTTP API", args.resets);
        let (http, base, token) = login(&args).await?;
        let next = Arc::new(AtomicU64::new(0));
        let mut workers = Vec::new();
        for _ in 0..args.reset_concurrency.max(1) {
            let (http, base, token, next, args) =
                (http.clone(), base.clone(), token.clone(), next.clone(), args.clone());
            workers.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                let mut errors = 0usize;
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed) as usize;
                    if n >= args.resets {
                        break;
                    }
                    // Spread over the fleet; `n * 7919` visits chargers in a scattered order.
                    let id = id_of((n * 7919) % args.chargers);
                    let t = Instant::now();
                    let r = http
                        .post(format!("{base}/chargers/{id}/reset"))
                        .bearer_auth(&token)
                        .json(&json!({"type": "soft"}))
                        .send()
                        .await;
                    match r {
                        Ok(resp) if resp.status().is_success() => lat.push(t.elapsed()),
                        _ => errors += 1,
                    }
                }
                (lat, errors)
            }));
        }
        let (mut lat, mut errors) = (Vec::new(), 0);
        for w in workers {
            let (l, e) = w.await?;
            lat.extend(l);
            errors += e;
        }
        lat.sort();
        report.insert(
            "reset".into(),
            json!({"count": lat.len(), "errors": errors, "p50_ms": percentile(&lat, 0.5).as_secs_f64() * 1e3, "p99_ms": percentile(&lat, 0.99).as_secs_f64() * 1e3, "charger_answers": answered.load(Ordering::Relaxed)}),
        );
    }

    // The dashboard, as the API answers it and as the console renders it, with the fleet on.
    if args.dashboards > 0 && !args.plain && Instant::now() < deadline {
        eprintln!("{} dashboards (API and console page)", args.dashboards);
        let (http, base, token) = login(&args).await?;
        let console = args.api_url.trim_end_matches('/').to_owned();
        let (mut api_lat, mut page_lat, mut online) = (Vec::new(), Vec::new(), -1i64);
        for _ in 0..args.dashboards {
            let t = Instant::now();
            let d: Value = http
                .get(format!("{base}/dashboard"))
                .bearer_auth(&token)
                .send()
                .await?
                .json()
                .await?;
            api_lat.push(t.elapsed());
            online = d["chargers"]["online"].as_i64().unwrap_or(-1);
            let t = Instant::now();
            // The console's session cookie holds the same kind of token.
            let page = http
                .get(format!("{console}/"))
                .header("cookie", format!("voltgate_session={token}"))
                .send()
                .await?;
            anyhow::ensure!(page.status().is_success(), "console page answered {}", page.status());
            page.bytes().await?;
            page_lat.push(t.elapsed());
        }
        api_lat.sort();
        page_lat.sort();
        report.insert(
            "dashboard".into(),
            json!({"count": api_lat.len(), "online_counted": online,
                   "api_p50_ms": percentile(&api_lat, 0.5).as_secs_f64() * 1e3, "api_p99_ms": percentile(&api_lat, 0.99).as_secs_f64() * 1e3,
                   "page_p50_ms": percentile(&page_lat, 0.5).as_secs_f64() * 1e3, "page_p99_ms": percentile(&page_lat, 0.99).as_secs_f64() * 1e3}),
        );
    }

    // Reconnect storm: the server dies with everything connected and comes back.
    if let (Some(cmd), Some(pid)) = (&args.restart_cmd, args.server_pid) {
        eprintln!("reconnect storm: killing {pid} and restarting");
        let started = Instant::now();
        std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()?;
        // Start the new server only once the old one is gone, as a supervisor would.
        while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        std::process::Command::new("sh")
            .args(["-c", cmd])
            .spawn()
            .context("--restart-cmd")?;
        let expected = sims.len() as u64;
        while reconnected.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        let back = reconnected.load(Ordering::Relaxed);
        // No duplicate sessions: the server lists each charger once, online.
        let online = online_chargers(&args).await.unwrap_or(-1);
        report.insert(
            "reconnect_storm".into(),
            json!({"seconds": seconds, "back": back, "expected": expected, "online_per_server": online}),
        );
    }

    let report = Value::Object(report);
    if args.json {
        println!("{report}");
    } else {
        println!("voltgate-bench: {} chargers (1.6 and 2.0.1 alternating)", args.chargers);
        println!("{:<34} result", "scenario");
        let b = &report["boot_storm"];
        println!(
            "{:<34} all booted in {:.2} s, failures {}, connect->boot p50 {:.1} ms p99 {:.1} ms",
            "boot storm",
            b["seconds"].as_f64().unwrap_or(0.0),
            b["failures"],
            b["p50_ms"].as_f64().unwrap_or(0.0),
            b["p99_ms"].as_f64().unwrap_or(0.0)
        );
        if let Some(r) = report.get("rss") {
            println!(
                "{:<34} {} KiB -> {} KiB, {:.0} bytes per connection",
                "server RSS",
                r["before_kib"],
                r["after_kib"],
                r["bytes_per_connection"].as_f64().unwrap_or(0.0)
            );
        }
        if let Some(h) = report.get("heartbeat") {
            println!(
                "{:<34} {:.0} calls/s, p50 {:.2} ms p99 {:.2} ms",
                "heartbeat throughput",
                h["calls_per_s"].as_f64().unwrap_or(0.0),
                h["p50_ms"].as_f64().unwrap_or(0.0),
                h["p99_ms"].as_f64().unwrap_or(0.0)
            );
        }
        if let Some(r) = report.get("reconnect_storm") {
            println!(
                "{:<34} {}/{} back and booted in {:.2} s; server lists {} online",
                "reconnect storm",
                r["back"],
                r["expected"],
                r["seconds"].as_f64().unwrap_or(0.0),
                r["online_per_server"]
            );
        }
        if let Some(m) = report.get("meter_values") {
            println!(
                "{:<34} {:.0} values/s persisted ({} of {} expected), {} failed, p50 {:.2} ms p99 {:.2} ms",
                "meter values",
                m["values_per_s"].as_f64().unwrap_or(0.0),
                m["persisted"],
                m["expected"],
                m["failed_messages"],
                m["p50_ms"].as_f64().unwrap_or(0.0),
                m["p99_ms"].as_f64().unwrap_or(0.0)
            );
        }
        if let Some(f) = report.get("flood") {
            println!(
                "{:<34} {} flooders: others' heartbeats p50 {:.2} -> {:.2} ms, p99 {:.2} -> {:.2} ms; {} flood frames, {} CALLERRORs, {} closes",
                "flood (quiet -> flooded)",
                f["flooders"],
                f["quiet"]["p50_ms"].as_f64().unwrap_or(0.0),
                f["flooded"]["p50_ms"].as_f64().unwrap_or(0.0),
                f["quiet"]["p99_ms"].as_f64().unwrap_or(0.0),
                f["flooded"]["p99_ms"].as_f64().unwrap_or(0.0),
                f["flood_frames_sent"],
                f["flood_callerrors"],
                f["flood_connections_closed"]
            );
        }
        if let Some(r) = report.get("reset") {
            println!(
                "{:<34} {} ok, {} errors, p50 {:.2} ms p99 {:.2} ms",
                "HTTP reset -> HTTP answer",
                r["count"],
                r["errors"],
                r["p50_ms"].as_f64().unwrap_or(0.0),
                r["p99_ms"].as_f64().unwrap_or(0.0)
            );
        }
        if let Some(d) = report.get("dashboard") {
            println!(
                "{:<34} {} online counted; API p50 {:.1} ms p99 {:.1} ms, console page p50 {:.1} ms p99 {:.1} ms",
                "dashboard (root operator)",
                d["online_counted"],
                d["api_p50_ms"].as_f64().unwrap_or(0.0),
                d["api_p99_ms"].as_f64().unwrap_or(0.0),
                d["page_p50_ms"].as_f64().unwrap_or(0.0),
                d["page_p99_ms"].as_f64().unwrap_or(0.0)
            );
        }
    }
    Ok(())
}
