//! `voltgate-bench`: simulated charge points (1.6 and 2.0.1 mixed) against a running voltgate,
//! from a separate process, over real WebSockets; bounded in count and time.
//!
//! ```text
//! cargo run --release --example voltgate_bench -- \
//!     --database-url 'sqlite:///path/to/voltgate.db?mode=rwc' --admin-password PW \
//!     --chargers 1000 [--server-pid PID] [--resets 200] [--dashboards 20] [--heartbeat-s 10] \
//!     [--meter-s 10] [--meter-throughput-s 10] [--processes 2] [--json]
//! ```
//!
//! Scenarios, in order: registration (directly in the database, one shared password hash, so
//! setup does not measure argon2), boot storm (connect + BootNotification + StatusNotification
//! for `--concurrency` at a time; a refused connection is a failure, never retried), heartbeat
//! throughput, meter values (every charger once a second, rows counted in the database),
//! MeterValues throughput (one value per message, back to back, rows counted), then, with the
//! fleet still connected, a flood, remote resets and dashboards through the HTTP API and a
//! reconnect storm. With `--server-pid` it reads the server's RSS from /proc before and after
//! connecting. Client sockets are spread over 127.0.0.2.. so one address's ephemeral ports are
//! never the limit.
//!
//! With `--processes K` the fleet is split over K child processes of this program that go
//! through the phases in step (each phase begins when all are ready for it, on a line over
//! their stdin and stdout), so one process's event loop is not what is measured; the parent
//! registers, keeps the server-side books and runs the API scenarios, and merges the children's
//! raw latencies before taking percentiles.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use base64::Engine;
use chrono::Utc;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, mpsc, oneshot};
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
    /// Seconds of MeterValues throughput: one value per message, each charger sending its next
    /// as soon as the last is answered (0: skip).
    #[arg(long, default_value_t = 0)]
    meter_throughput_s: u64,
    /// Load-generator processes sharing the fleet, in step phase by phase.
    #[arg(long, default_value_t = 1)]
    processes: usize,
    /// Set by the parent of `--processes`: this child's first charger.
    #[arg(long, hide = true, requires = "child_count")]
    child_first: Option<usize>,
    /// Set by the parent of `--processes`: how many chargers this child runs.
    #[arg(long, hide = true)]
    child_count: Option<usize>,
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

/// The `q` quantile of latencies in milliseconds (sorts them).
fn percentile(ms: &mut [f64], q: f64) -> f64 {
    if ms.is_empty() {
        return 0.0;
    }
    ms.sort_by(f64::total_cmp);
    ms[((ms.len() as f64 - 1.0) * q).round() as usize]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// How long the booted fleet stays quiet before its held RSS is read: the message log lingers
/// up to two seconds over a storm's batch, stores it, and gives its buffers back two seconds
/// after the last exchange.
const HELD_SETTLE: Duration = Duration::from_secs(4);

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

/// A CALL the bench asks a simulated charger to send.
#[derive(Debug, Clone, Copy)]
enum Call {
    Heartbeat,
    /// MeterValues with this many sampled values (1 to 3).
    MeterValues(usize),
}

/// What the bench asks a simulated charger to do.
enum Ask {
    /// Send one CALL; its latency goes to `done` (`None`: answered with a CALLERROR).
    One {
        call: Call,
        done: oneshot::Sender<Option<Duration>>,
    },
    /// Send `call` back to back, the next as soon as the last is answered, until `until`; the
    /// latencies (ms) and the count of CALLERRORs go to `done`. The charger's own task keeps
    /// the loop, so the load generator spends nothing per CALL beyond the frames.
    Run {
        call: Call,
        until: Instant,
        done: oneshot::Sender<(Vec<f64>, usize)>,
    },
}

/// A back-to-back run under way in a charger's task.
struct Running {
    call: Call,
    until: Instant,
    lat: Vec<f64>,
    failed: usize,
    done: oneshot::Sender<(Vec<f64>, usize)>,
}

/// Who waits for the answer to the CALL in flight.
enum Waiter {
    One(oneshot::Sender<Option<Duration>>),
    Run,
}

/// Sampled values per paced MeterValues message.
const SAMPLES: usize = 3;

struct Sim {
    asks: mpsc::Sender<Ask>,
    /// Speaks 1.6 (else 2.0.1): half the fleet each.
    v16: bool,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// Connects, boots and reports connector status; returns the socket and connect->boot time
/// (the status's answer is waited for, not counted).
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
    loop {
        ws.send(Message::Text(boot.to_string().into())).await?;
        let v = answer_to(&mut ws, "b", "boot").await?;
        if v[0] == 3 && v[2]["status"] == "Pending" {
            let wait = v[2]["interval"].as_u64().unwrap_or(30).max(1);
            tokio::time::sleep(Duration::from_secs(wait)).await;
            continue;
        }
        // The ceiling answers `{}`: only a status other than Accepted is a failure.
        if v[0] != 3 || v[2].get("status").is_some_and(|s| s != "Accepted") {
            bail!("boot answered {v}");
        }
        break;
    }
    let boot_latency = started.elapsed();
    let status = if v16 {
        json!([2, "s", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}])
    } else {
        json!([2, "s", "StatusNotification", {"timestamp": Utc::now().to_rfc3339(), "connectorStatus": "Available", "evseId": 1, "connectorId": 1}])
    };
    ws.send(Message::Text(status.to_string().into())).await?;
    // A charger counts as in once its status is answered too: a storm is not over while
    // statuses still wait for their commit, and the next phase would start behind them.
    let v = answer_to(&mut ws, "s", "status").await?;
    ensure!(v[0] == 3, "status answered {v}");
    Ok((ws, boot_latency))
}

/// Reads frames until the answer to CALL `id` (the `what`) arrives.
async fn answer_to(ws: &mut Ws, id: &str, what: &str) -> anyhow::Result<Value> {
    loop {
        let Some(msg) = ws.next().await else {
            bail!("closed before the {what} was answered")
        };
        if let Message::Text(t) = msg? {
            let v: Value = serde_json::from_str(&t)?;
            if v[1] == id {
                return Ok(v);
            }
        }
    }
}

/// Sends `call` as CALL number `n`; its message id.
async fn send_call(ws: &mut Ws, v16: bool, n: u64, call: Call) -> Result<String, ()> {
    let mid = format!("c{n}");
    let frame = match call {
        Call::Heartbeat => json!([2, mid, "Heartbeat", {}]),
        Call::MeterValues(samples) => json!([2, mid, "MeterValues", meter_values(v16, n, samples)]),
    };
    ws.send(Message::Text(frame.to_string().into())).await.map_err(|_| ())?;
    Ok(mid)
}

/// A MeterValues payload with the first `samples` of: an energy register rising with `n`,
/// power, voltage.
fn meter_values(v16: bool, n: u64, samples: usize) -> Value {
    let now = Utc::now().to_rfc3339();
    let mut values = if v16 {
        vec![
            json!({"value": (n * 10).to_string(), "measurand": "Energy.Active.Import.Register", "unit": "Wh"}),
            json!({"value": "7200", "measurand": "Power.Active.Import", "unit": "W"}),
            json!({"value": "230.0", "measurand": "Voltage", "unit": "V"}),
        ]
    } else {
        vec![
            json!({"value": n * 10, "measurand": "Energy.Active.Import.Register"}),
            json!({"value": 7200, "measurand": "Power.Active.Import"}),
            json!({"value": 230.0, "measurand": "Voltage"}),
        ]
    };
    values.truncate(samples.clamp(1, 3));
    if v16 {
        json!({"connectorId": 1, "meterValue": [{"timestamp": now, "sampledValue": values}]})
    } else {
        json!({"evseId": 1, "meterValue": [{"timestamp": now, "sampledValue": values}]})
    }
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
        let mut waiting: Option<(String, Instant, Waiter)> = None;
        let mut running: Option<Running> = None;
        let mut n = 0u64;
        'connection: loop {
            loop {
                tokio::select! {
                    ask = rx.recv(), if waiting.is_none() => {
                        let (call, waiter) = match ask {
                            Some(Ask::One { call, done }) => (call, Waiter::One(done)),
                            Some(Ask::Run { call, until, done }) => {
                                running = Some(Running { call, until, lat: Vec::new(), failed: 0, done });
                                (call, Waiter::Run)
                            }
                            None => break,
                        };
                        n += 1;
                        let Ok(mid) = send_call(&mut ws, v16, n, call).await else { break };
                        waiting = Some((mid, Instant::now(), waiter));
                    }
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
                                let Some((mid, at, waiter)) = waiting.take() else { continue };
                                if v[1] != json!(mid) {
                                    waiting = Some((mid, at, waiter));
                                    continue;
                                }
                                let latency = (kind == 3).then(|| at.elapsed());
                                match waiter {
                                    Waiter::One(done) => { let _ = done.send(latency); }
                                    Waiter::Run => {
                                        let Some(run) = running.as_mut() else { continue };
                                        match latency {
                                            Some(d) => run.lat.push(millis(d)),
                                            None => run.failed += 1,
                                        }
                                        if Instant::now() < run.until {
                                            n += 1;
                                            let Ok(mid) = send_call(&mut ws, v16, n, run.call).await else { break };
                                            waiting = Some((mid, Instant::now(), Waiter::Run));
                                        } else if let Some(run) = running.take() {
                                            let _ = run.done.send((run.lat, run.failed));
                                        }
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
            (waiting, running) = (None, None);
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
    Ok((Sim { asks: tx, v16 }, boot_latency))
}

/// Every simulated charger sends `call` for `seconds`, once a second (`paced`) or the next as
/// soon as the last is answered: the answered ones' latencies (ms) and how many failed.
async fn drive(sims: &[Sim], seconds: u64, call: Call, paced: bool) -> (Vec<f64>, usize) {
    let (lat, failed, _) = drive_counted(sims, seconds, call, paced).await;
    (lat, failed)
}

/// [`drive`], also counting how many answers 1.6 chargers had (unpaced runs only): with one
/// CALL in flight per charger, each version's count is its speed.
async fn drive_counted(sims: &[Sim], seconds: u64, call: Call, paced: bool) -> (Vec<f64>, usize, usize) {
    let until = Instant::now() + Duration::from_secs(seconds);
    let (mut lat, mut failed, mut v16_answered) = (Vec::new(), 0usize, 0usize);
    if !paced {
        let mut runs = Vec::with_capacity(sims.len());
        for sim in sims {
            let (done, result) = oneshot::channel();
            if sim.asks.send(Ask::Run { call, until, done }).await.is_ok() {
                runs.push((sim.v16, result));
            } else {
                failed += 1;
            }
        }
        for (v16, run) in runs {
            match run.await {
                Ok((l, f)) => {
                    if v16 {
                        v16_answered += l.len();
                    }
                    lat.extend(l);
                    failed += f;
                }
                // The charger's connection ended mid-run.
                Err(_) => failed += 1,
            }
        }
        return (lat, failed, v16_answered);
    }
    let mut workers = Vec::new();
    for sim in sims {
        let asks = sim.asks.clone();
        workers.push(tokio::spawn(async move {
            let (mut lat, mut failed) = (Vec::new(), 0usize);
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                if Instant::now() >= until {
                    break;
                }
                let (done, answer) = oneshot::channel();
                if asks.send(Ask::One { call, done }).await.is_err() {
                    failed += 1;
                    break;
                }
                match answer.await {
                    Ok(Some(d)) => lat.push(millis(d)),
                    Ok(None) => failed += 1,
                    // The charger's connection ended.
                    Err(_) => {
                        failed += 1;
                        break;
                    }
                }
            }
            (lat, failed)
        }));
    }
    for w in workers {
        let (l, f) = w.await.unwrap_or_default();
        lat.extend(l);
        failed += f;
    }
    (lat, failed, v16_answered)
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

/// The phases every process goes through in step; each begins when all are ready for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Storm,
    Heartbeat,
    Meter,
    Throughput,
    /// The load phases are over; the fleet stays connected for the API scenarios.
    Hold,
}

const PHASES: [Phase; 5] = [
    Phase::Storm,
    Phase::Heartbeat,
    Phase::Meter,
    Phase::Throughput,
    Phase::Hold,
];

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Storm => "storm",
            Phase::Heartbeat => "heartbeat",
            Phase::Meter => "meter",
            Phase::Throughput => "throughput",
            Phase::Hold => "hold",
        }
    }
}

/// How a process running chargers begins the next phase.
enum Step<'a> {
    /// The only process: it keeps the books itself.
    Alone(&'a mut Book),
    /// One of `--processes`: says so to the parent on stdout and waits for its `go` on stdin.
    Child,
}

impl Step<'_> {
    async fn begin(&mut self, phase: Phase) -> anyhow::Result<()> {
        match self {
            Step::Alone(book) => book.begin(phase).await,
            Step::Child => {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                writeln!(out, "ready {}", phase.name())?;
                out.flush()?;
                drop(out);
                let line = tokio::task::spawn_blocking(|| {
                    let mut line = String::new();
                    std::io::stdin().read_line(&mut line).map(|_| line)
                })
                .await??;
                ensure!(line.trim() == "go", "the parent said {line:?}");
                Ok(())
            }
        }
    }
}

/// What is measured on the server's side: its RSS around the storm and once the booted fleet
/// has been quiet a while, and the meter values its database gained during each meter phase.
struct Book {
    server_pid: Option<u32>,
    db: Option<sea_orm::DatabaseConnection>,
    rss_before: Option<u64>,
    rss_after: Option<u64>,
    /// RSS once every charger is booted and the fleet has been quiet for [`HELD_SETTLE`] more:
    /// what a connected fleet at rest costs, without the storm's passing buffers.
    rss_held: Option<u64>,
    /// The meter phase under way: the row count and the time it began at.
    counting: Option<(Phase, u64, Instant)>,
    /// Values stored during each meter phase, and its length in seconds.
    stored: Vec<(Phase, u64, f64)>,
}

impl Book {
    async fn new(args: &Args) -> anyhow::Result<Self> {
        let db = match (&args.database_url, args.plain) {
            (Some(url), false) => Some(sea_orm::Database::connect(url.as_str()).await?),
            _ => None,
        };
        Ok(Self {
            server_pid: args.server_pid,
            db,
            rss_before: None,
            rss_after: None,
            rss_held: None,
            counting: None,
            stored: Vec::new(),
        })
    }

    async fn meter_rows(db: &sea_orm::DatabaseConnection) -> anyhow::Result<u64> {
        use sea_orm::{EntityTrait, PaginatorTrait};
        Ok(entity::meter_value::Entity::find().count(db).await?)
    }

    /// Every process is ready for `phase`, so the previous one has ended everywhere.
    async fn begin(&mut self, phase: Phase) -> anyhow::Result<()> {
        if let (Some((was, before, at)), Some(db)) = (self.counting.take(), &self.db) {
            let stored = Self::meter_rows(db).await?.saturating_sub(before);
            self.stored.push((was, stored, at.elapsed().as_secs_f64()));
        }
        match phase {
            Phase::Storm => self.rss_before = rss_kib(self.server_pid),
            Phase::Heartbeat => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                self.rss_after = rss_kib(self.server_pid);
                tokio::time::sleep(HELD_SETTLE).await;
                self.rss_held = rss_kib(self.server_pid);
            }
            Phase::Meter | Phase::Throughput => {
                if let Some(db) = &self.db {
                    self.counting = Some((phase, Self::meter_rows(db).await?, Instant::now()));
                }
            }
            Phase::Hold => {}
        }
        Ok(())
    }

    /// Values stored during `phase` and its length in seconds.
    fn stored(&self, phase: Phase) -> Option<(u64, f64)> {
        self.stored.iter().find(|(p, ..)| *p == phase).map(|&(_, n, s)| (n, s))
    }
}

/// One process's raw figures; the parent of `--processes` merges them before percentiles.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Samples {
    storm_s: f64,
    boot_ms: Vec<f64>,
    failures: usize,
    heartbeat_ms: Vec<f64>,
    meter_ms: Vec<f64>,
    meter_failed: usize,
    throughput_ms: Vec<f64>,
    throughput_failed: usize,
    /// Of `throughput_ms`, the answers 1.6 chargers had.
    throughput_v16: usize,
    /// CSMS calls (resets) the chargers answered.
    answered: u64,
}

impl Samples {
    fn merge(&mut self, other: Samples) {
        self.storm_s = self.storm_s.max(other.storm_s);
        self.boot_ms.extend(other.boot_ms);
        self.failures += other.failures;
        self.heartbeat_ms.extend(other.heartbeat_ms);
        self.meter_ms.extend(other.meter_ms);
        self.meter_failed += other.meter_failed;
        self.throughput_ms.extend(other.throughput_ms);
        self.throughput_failed += other.throughput_failed;
        self.throughput_v16 += other.throughput_v16;
        self.answered += other.answered;
    }
}

/// What the chargers of one process share while connected.
struct Fleet {
    sims: Vec<Sim>,
    answered: Arc<AtomicU64>,
    reconnected: Arc<AtomicU64>,
}

/// Runs chargers `first..first + count` through the storm and the load phases, beginning each
/// with `step`; the chargers stay connected.
async fn run_chargers(
    args: &Arc<Args>,
    first: usize,
    count: usize,
    step: &mut Step<'_>,
) -> anyhow::Result<(Fleet, Samples)> {
    let mut samples = Samples::default();
    let show_progress = matches!(step, Step::Alone(_));
    step.begin(Phase::Storm).await?;
    eprintln!("boot storm: {count} chargers, {} at a time", args.concurrency);
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let answered = Arc::new(AtomicU64::new(0));
    let reconnected = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(count);
    for i in first..first + count {
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
    let done = Arc::new(AtomicU64::new(0));
    let progress = show_progress.then(|| {
        let done = done.clone();
        tokio::spawn(async move {
            loop {
                let n = done.load(Ordering::Relaxed) as usize;
                let filled = n * 40 / count.max(1);
                eprint!(
                    "\r  [{}{}] {n}/{count} booted",
                    "#".repeat(filled),
                    ".".repeat(40 - filled)
                );
                if n >= count {
                    eprintln!();
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    });
    let mut sims = Vec::with_capacity(count);
    for (n, t) in tasks.into_iter().enumerate() {
        match t.await? {
            Ok((sim, latency)) => {
                sims.push(sim);
                samples.boot_ms.push(millis(latency));
            }
            Err(e) => {
                samples.failures += 1;
                if samples.failures <= 5 {
                    eprintln!("charger {}: {e:#}", first + n);
                }
            }
        }
        done.store(n as u64 + 1, Ordering::Relaxed);
    }
    if let Some(progress) = progress {
        let _ = progress.await;
    }
    samples.storm_s = started.elapsed().as_secs_f64();

    step.begin(Phase::Heartbeat).await?;
    if args.heartbeat_s > 0 {
        eprintln!("heartbeats for {} s", args.heartbeat_s);
        samples.heartbeat_ms = drive(&sims, args.heartbeat_s, Call::Heartbeat, false).await.0;
    }
    step.begin(Phase::Meter).await?;
    if args.meter_s > 0 && !args.plain {
        eprintln!("meter values for {} s", args.meter_s);
        (samples.meter_ms, samples.meter_failed) = drive(&sims, args.meter_s, Call::MeterValues(SAMPLES), true).await;
    }
    step.begin(Phase::Throughput).await?;
    if args.meter_throughput_s > 0 {
        eprintln!("MeterValues throughput for {} s", args.meter_throughput_s);
        (samples.throughput_ms, samples.throughput_failed, samples.throughput_v16) =
            drive_counted(&sims, args.meter_throughput_s, Call::MeterValues(1), false).await;
    }
    step.begin(Phase::Hold).await?;
    let fleet = Fleet {
        sims,
        answered,
        reconnected,
    };
    Ok((fleet, samples))
}

/// Remote resets and dashboards through the HTTP API while the fleet is connected.
async fn api_scenarios(args: &Arc<Args>, report: &mut serde_json::Map<String, Value>) -> anyhow::Result<()> {
    if args.plain {
        return Ok(());
    }
    if args.resets > 0 {
        eprintln!("{} resets through the HTTP API", args.resets);
        let (http, base, token) = login(args).await?;
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
                        Ok(resp) if resp.status().is_success() => lat.push(millis(t.elapsed())),
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
        report.insert(
            "reset".into(),
            json!({"count": lat.len(), "errors": errors, "p50_ms": percentile(&mut lat, 0.5), "p99_ms": percentile(&mut lat, 0.99)}),
        );
    }
    if args.dashboards > 0 {
        eprintln!("{} dashboards (API and console page)", args.dashboards);
        let (http, base, token) = login(args).await?;
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
            api_lat.push(millis(t.elapsed()));
            online = d["chargers"]["online"].as_i64().unwrap_or(-1);
            let t = Instant::now();
            // The console's session cookie holds the same kind of token.
            let page = http
                .get(format!("{console}/"))
                .header("cookie", format!("voltgate_session={token}"))
                .send()
                .await?;
            ensure!(page.status().is_success(), "console page answered {}", page.status());
            page.bytes().await?;
            page_lat.push(millis(t.elapsed()));
        }
        report.insert(
            "dashboard".into(),
            json!({"count": api_lat.len(), "online_counted": online,
                   "api_p50_ms": percentile(&mut api_lat, 0.5), "api_p99_ms": percentile(&mut api_lat, 0.99),
                   "page_p50_ms": percentile(&mut page_lat, 0.5), "page_p99_ms": percentile(&mut page_lat, 0.99)}),
        );
    }
    Ok(())
}

/// The report's load figures, from every process's samples and the server-side books.
fn load_report(args: &Args, s: &mut Samples, book: &Book, report: &mut serde_json::Map<String, Value>) {
    report.insert(
        "boot_storm".into(),
        json!({"seconds": s.storm_s, "failures": s.failures, "p50_ms": percentile(&mut s.boot_ms, 0.5), "p99_ms": percentile(&mut s.boot_ms, 0.99)}),
    );
    if let (Some(before), Some(after)) = (book.rss_before, book.rss_after) {
        let per = |kib: u64| kib.saturating_sub(before) as f64 * 1024.0 / s.boot_ms.len().max(1) as f64;
        let held = book.rss_held.unwrap_or(0);
        report.insert(
            "rss".into(),
            json!({"before_kib": before, "after_kib": after, "bytes_per_connection": per(after),
                   "held_kib": held, "held_bytes_per_connection": per(held)}),
        );
    }
    if args.heartbeat_s > 0 {
        report.insert(
            "heartbeat".into(),
            json!({"calls_per_s": s.heartbeat_ms.len() as f64 / args.heartbeat_s as f64, "p50_ms": percentile(&mut s.heartbeat_ms, 0.5), "p99_ms": percentile(&mut s.heartbeat_ms, 0.99)}),
        );
    }
    if let (true, Some((stored, seconds))) = (args.meter_s > 0, book.stored(Phase::Meter)) {
        report.insert(
            "meter_values".into(),
            json!({"values_per_s": stored as f64 / seconds, "persisted": stored, "expected": s.meter_ms.len() * SAMPLES, "failed_messages": s.meter_failed,
                   "p50_ms": percentile(&mut s.meter_ms, 0.5), "p99_ms": percentile(&mut s.meter_ms, 0.99)}),
        );
    }
    if args.meter_throughput_s > 0 {
        let mut figures = json!({"calls_per_s": s.throughput_ms.len() as f64 / args.meter_throughput_s as f64,
            "acknowledged": s.throughput_ms.len(), "failed_messages": s.throughput_failed,
            "p50_ms": percentile(&mut s.throughput_ms, 0.5), "p99_ms": percentile(&mut s.throughput_ms, 0.99),
            "v16_calls_per_s": s.throughput_v16 as f64 / args.meter_throughput_s as f64,
            "v201_calls_per_s": (s.throughput_ms.len() - s.throughput_v16) as f64 / args.meter_throughput_s as f64});
        if let Some((stored, seconds)) = book.stored(Phase::Throughput) {
            figures["values_per_s"] = json!(stored as f64 / seconds);
            figures["stored"] = json!(stored);
            figures["acknowledged_not_stored"] = json!((s.throughput_ms.len() as u64).saturating_sub(stored));
        }
        report.insert("meter_throughput".into(), figures);
    }
}

/// A child of `--processes`, as the parent sees it.
struct Child {
    process: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Child {
    fn line(&mut self) -> anyhow::Result<String> {
        use std::io::BufRead;
        let mut line = String::new();
        tokio::task::block_in_place(|| self.stdout.read_line(&mut line))?;
        Ok(line.trim_end().to_owned())
    }
}

/// The parent of `--processes`: splits the fleet over its children, keeps them in step, keeps
/// the books, runs the API scenarios while they hold their chargers and merges their figures.
async fn parent(args: Arc<Args>, report: &mut serde_json::Map<String, Value>) -> anyhow::Result<()> {
    use std::io::Write;
    if args.flooders > 0 || args.restart_cmd.is_some() {
        bail!("--flooders and --restart-cmd run in one process: leave out --processes");
    }
    let mut book = Book::new(&args).await?;
    let exe = std::env::current_exe()?;
    let passed: Vec<String> = std::env::args().skip(1).collect();
    let k = args.processes;
    let mut children = Vec::with_capacity(k);
    for p in 0..k {
        let (first, end) = (args.chargers * p / k, args.chargers * (p + 1) / k);
        let mut process = std::process::Command::new(&exe)
            .args(&passed)
            .args([
                "--child-first",
                &first.to_string(),
                "--child-count",
                &(end - first).to_string(),
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("starting a load-generator process")?;
        let stdin = process.stdin.take().context("child stdin")?;
        let stdout = std::io::BufReader::new(process.stdout.take().context("child stdout")?);
        children.push(Child { process, stdin, stdout });
    }
    for phase in PHASES {
        for child in &mut children {
            let line = child.line()?;
            ensure!(line == format!("ready {}", phase.name()), "a child said {line:?}");
        }
        book.begin(phase).await?;
        if phase == Phase::Hold {
            api_scenarios(&args, report).await?;
        }
        for child in &mut children {
            writeln!(child.stdin, "go")?;
        }
    }
    let mut samples = Samples::default();
    for child in &mut children {
        let line = child.line()?;
        let raw = line.strip_prefix("result ").context("a child's result")?;
        samples.merge(serde_json::from_str(raw)?);
        child.process.wait()?;
    }
    load_report(&args, &mut samples, &book, report);
    if let Some(reset) = report.get_mut("reset") {
        reset["charger_answers"] = json!(samples.answered);
    }
    Ok(())
}

/// One process running the whole fleet, then the scenarios that need it connected.
async fn alone(args: Arc<Args>, deadline: Instant, report: &mut serde_json::Map<String, Value>) -> anyhow::Result<()> {
    let mut book = Book::new(&args).await?;
    let (fleet, mut samples) = run_chargers(&args, 0, args.chargers, &mut Step::Alone(&mut book)).await?;
    let sims = &fleet.sims;

    // Flood: do well-behaved chargers notice a few that send as fast as they can?
    if args.flooders > 0 && !args.plain && Instant::now() < deadline {
        eprintln!(
            "flood: {} s quiet, then {} s with {} flooders",
            args.flood_s, args.flood_s, args.flooders
        );
        let (mut quiet, _) = drive(sims, args.flood_s, Call::Heartbeat, true).await;
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
        let (mut loud, _) = drive(sims, args.flood_s, Call::Heartbeat, true).await;
        stop.store(true, Ordering::Relaxed);
        for f in flooders {
            f.abort();
        }
        report.insert(
            "flood".into(),
            json!({"flooders": args.flooders,
                "quiet": {"count": quiet.len(), "p50_ms": percentile(&mut quiet, 0.5), "p99_ms": percentile(&mut quiet, 0.99)},
                "flooded": {"count": loud.len(), "p50_ms": percentile(&mut loud, 0.5), "p99_ms": percentile(&mut loud, 0.99)},
                "flood_frames_sent": counts[0].load(Ordering::Relaxed),
                "flood_callerrors": counts[1].load(Ordering::Relaxed),
                "flood_connections_closed": counts[2].load(Ordering::Relaxed)}),
        );
    }

    if Instant::now() < deadline {
        api_scenarios(&args, report).await?;
    }
    samples.answered = fleet.answered.load(Ordering::Relaxed);
    load_report(&args, &mut samples, &book, report);
    if let Some(reset) = report.get_mut("reset") {
        reset["charger_answers"] = json!(samples.answered);
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
        while fleet.reconnected.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let seconds = started.elapsed().as_secs_f64();
        let back = fleet.reconnected.load(Ordering::Relaxed);
        // No duplicate sessions: the server lists each charger once, online.
        let online = online_chargers(&args).await.unwrap_or(-1);
        report.insert(
            "reconnect_storm".into(),
            json!({"seconds": seconds, "back": back, "expected": expected, "online_per_server": online}),
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Arc::new(Args::parse());
    let limit = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    if let (Some(first), Some(count)) = (args.child_first, args.child_count) {
        let (fleet, mut samples) = run_chargers(&args, first, count, &mut Step::Child).await?;
        samples.answered = fleet.answered.load(Ordering::Relaxed);
        println!("result {}", serde_json::to_string(&samples)?);
        return Ok(());
    }
    let per_process = args.chargers.div_ceil(args.processes.max(1));
    if per_process as u64 + 64 > limit {
        bail!("{per_process} chargers per process need more than the open-file limit {limit}");
    }
    let deadline = Instant::now() + Duration::from_secs(args.max_s);
    let mut report = serde_json::Map::new();
    report.insert("chargers".into(), json!(args.chargers));
    report.insert("processes".into(), json!(args.processes.max(1)));
    if !args.plain {
        register(&args).await?;
    }
    if args.processes > 1 {
        parent(Arc::clone(&args), &mut report).await?;
    } else {
        alone(Arc::clone(&args), deadline, &mut report).await?;
    }
    let report = Value::Object(report);
    if args.json {
        println!("{report}");
    } else {
        println!(
            "voltgate-bench: {} chargers (1.6 and 2.0.1 alternating), {} load process(es)",
            args.chargers,
            args.processes.max(1)
        );
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
        if let Some(m) = report.get("meter_throughput") {
            println!(
                "{:<34} {:.0} answered/s (1.6 {:.0}, 2.0.1 {:.0}), {:.0} values/s stored, {} acknowledged but not stored, {} failed, p50 {:.2} ms p99 {:.2} ms",
                "MeterValues throughput",
                m["calls_per_s"].as_f64().unwrap_or(0.0),
                m["v16_calls_per_s"].as_f64().unwrap_or(0.0),
                m["v201_calls_per_s"].as_f64().unwrap_or(0.0),
                m["values_per_s"].as_f64().unwrap_or(f64::NAN),
                m["acknowledged_not_stored"],
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
