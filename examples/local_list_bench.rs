//! `local_list_bench`: what a blocked card costs with local lists on (issue 20), from a separate
//! process over real WebSockets; `bench/local_list.sh` runs it.
//!
//! ```text
//! local_list_bench setup --database-url URL [--tokens 10000 --chargers 1000 --sites 50]
//! local_list_bench run --database-url URL --admin-password PW [--server-pid PID] [--json]
//! ```
//!
//! `setup` writes a tree into an empty, migrated database before the server starts: 5
//! organisations under the root, `--sites` sites spread over them (every other one public, the
//! rest private admitting their organisation's group), all keeping local lists, `--tokens`
//! cards in those groups and `--chargers` chargers over the sites (half 1.6, half 2.0.1).
//! `run` connects every charger (each answers GetConfiguration/GetVariables, GetLocalListVersion,
//! SendLocalList at most 500 entries a message, ClearCache) and waits until all hold their
//! whole list; then blocks one card through the API and times how long until every charger
//! whose list holds that card holds it as Blocked, counting the SendLocalList and ClearCache
//! messages, the server's CPU time and the rows the change wrote.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use chrono::Utc;
use clap::{Parser, Subcommand};
use entity::values::{RegistrationStatus, SiteKind, TokenKind, TokenStatus};
use entity::{access_rule, charger, driver_group, id_token, organisation, site};
use futures_util::{SinkExt, StreamExt};
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, Statement};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    step: Step,
}

#[derive(Debug, Subcommand)]
enum Step {
    /// Writes the tree, tokens and chargers into the (migrated, empty) database.
    Setup {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 10_000)]
        tokens: usize,
        #[arg(long, default_value_t = 1000)]
        chargers: usize,
        #[arg(long, default_value_t = 50)]
        sites: usize,
    },
    /// Connects the chargers, waits for their lists, blocks one card and times it.
    Run {
        #[arg(long, default_value = "ws://127.0.0.1:9000/ocpp")]
        ocpp_url: String,
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        api_url: String,
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        admin_password: String,
        #[arg(long)]
        server_pid: Option<u32>,
        #[arg(long, default_value_t = 600)]
        timeout_s: u64,
        #[arg(long)]
        json: bool,
    },
}

const PASSWORD: &str = "local-list-bench-pw";
const ORGS: i32 = 5;
const ITEMS: usize = 500;
/// The card that gets blocked: one of the first organisation's.
const VICTIM: &str = "CARD-000000";

fn charger_id(i: usize) -> String {
    format!("LLB-{i:05}")
}

async fn setup(url: &str, tokens: usize, chargers: usize, sites: usize) -> anyhow::Result<()> {
    let db = sea_orm::Database::connect(url).await?;
    let now = Utc::now();
    let org = |id: i32, parent: Option<i32>, path: String| organisation::ActiveModel {
        id: Set(id),
        name: Set(format!("Org {id}")),
        parent_id: Set(parent),
        path: Set(path),
        require_2fa: Set(false),
        created_at: Set(now),
        ..Default::default()
    };
    organisation::Entity::insert(org(1, None, "/1/".into()))
        .exec(&db)
        .await?;
    let orgs: Vec<i32> = (2..2 + ORGS).collect();
    organisation::Entity::insert_many(orgs.iter().map(|&id| org(id, Some(1), format!("/1/{id}/"))))
        .exec(&db)
        .await?;
    // One group per organisation, id = organisation id - 1.
    driver_group::Entity::insert_many(orgs.iter().map(|&o| driver_group::ActiveModel {
        id: Set(o - 1),
        organisation_id: Set(o),
        name: Set(format!("Drivers of {o}")),
        created_at: Set(now),
    }))
    .exec(&db)
    .await?;
    let site_org = |s: usize| orgs[s % orgs.len()];
    site::Entity::insert_many((0..sites).map(|s| site::ActiveModel {
        id: Set(s as i32 + 1),
        organisation_id: Set(site_org(s)),
        name: Set(format!("Site {s}")),
        address: Set(None),
        kind: Set(if (s / orgs.len()) % 2 == 0 {
            SiteKind::Public
        } else {
            SiteKind::Private
        }),
        local_list: Set(true),
        created_at: Set(now),
    }))
    .exec(&db)
    .await?;
    let private: Vec<usize> = (0..sites).filter(|s| (s / orgs.len()) % 2 == 1).collect();
    if !private.is_empty() {
        access_rule::Entity::insert_many(private.iter().map(|&s| access_rule::ActiveModel {
            site_id: Set(s as i32 + 1),
            group_id: Set(site_org(s) - 1),
            created_at: Set(now),
            ..Default::default()
        }))
        .exec(&db)
        .await?;
    }
    let ids: Vec<usize> = (0..tokens).collect();
    for chunk in ids.chunks(500) {
        id_token::Entity::insert_many(chunk.iter().map(|&t| {
            let o = orgs[t % orgs.len()];
            id_token::ActiveModel {
                token: Set(format!("CARD-{t:06}")),
                kind: Set(TokenKind::Iso14443),
                organisation_id: Set(o),
                root_id: Set(1),
                group_id: Set(Some(o - 1)),
                status: Set(TokenStatus::Accepted),
                created_at: Set(now),
                ..Default::default()
            }
        }))
        .exec(&db)
        .await?;
    }
    let hash = voltgate::crypto::hash_charger_password(PASSWORD, 256).map_err(|e| anyhow::anyhow!("{e}"))?;
    let ids: Vec<usize> = (0..chargers).collect();
    for chunk in ids.chunks(500) {
        charger::Entity::insert_many(chunk.iter().map(|&i| {
            let s = i % sites;
            charger::ActiveModel {
                id: Set(charger_id(i)),
                organisation_id: Set(Some(site_org(s))),
                site_id: Set(Some(s as i32 + 1)),
                password_hash: Set(Some(hash.clone())),
                registration_status: Set(RegistrationStatus::Accepted),
                created_at: Set(now),
                ..Default::default()
            }
        }))
        .exec(&db)
        .await?;
    }
    // PostgreSQL: the explicit ids above leave the sequences behind.
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        for table in ["organisation", "driver_group", "site"] {
            let sql = format!("SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))");
            db.execute(Statement::from_string(db.get_database_backend(), sql))
                .await?;
        }
    }
    Ok(())
}

/// What one simulated charger holds of interest: its list's size and the victim's status.
#[derive(Debug, Default, Clone)]
struct Held {
    version: i64,
    /// The cards on its list.
    list: std::collections::HashSet<String>,
    victim: Option<String>,
    /// When the victim became Blocked.
    blocked_at: Option<Instant>,
    sends: usize,
    clears: usize,
    /// Whether the last Full was followed through (its parts all taken).
    synced_once: bool,
}

type Shared = Arc<Mutex<HashMap<String, Held>>>;

async fn sim(ocpp_url: String, i: usize, shared: Shared) -> anyhow::Result<()> {
    let v16 = i % 2 == 0;
    let id = charger_id(i);
    let mut request = format!("{ocpp_url}/{id}").into_client_request()?;
    let proto = if v16 { "ocpp1.6" } else { "ocpp2.0.1" };
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(proto));
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{PASSWORD}"));
    request
        .headers_mut()
        .insert("Authorization", HeaderValue::from_str(&format!("Basic {token}"))?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    let boot = if v16 {
        json!([2, "b", "BootNotification", {"chargePointVendor": "Bench", "chargePointModel": "LL-16"}])
    } else {
        json!([2, "b", "BootNotification", {"reason": "PowerUp", "chargingStation": {"vendorName": "Bench", "model": "LL-201"}}])
    };
    ws.send(Message::Text(boot.to_string().into())).await?;
    while let Some(msg) = ws.next().await {
        let Message::Text(text) = msg? else { continue };
        let frame: Value = serde_json::from_str(&text)?;
        if frame[0] != 2 {
            continue;
        }
        let answer = {
            let mut all = shared.lock().unwrap();
            let held = all.entry(id.clone()).or_default();
            respond(v16, held, frame[2].as_str().unwrap_or(""), &frame[3])
        };
        ws.send(Message::Text(json!([3, frame[1], answer]).to_string().into()))
            .await?;
    }
    Ok(())
}

fn respond(v16: bool, h: &mut Held, action: &str, p: &Value) -> Value {
    match action {
        "GetConfiguration" => json!({"configurationKey": [
            {"key": "SupportedFeatureProfiles", "readonly": true, "value": "Core,LocalAuthListManagement"},
            {"key": "LocalAuthListEnabled", "readonly": false, "value": "true"},
            {"key": "LocalAuthListMaxLength", "readonly": true, "value": "20000"},
            {"key": "SendLocalListMaxLength", "readonly": true, "value": ITEMS.to_string()},
        ]}),
        "GetVariables" => {
            let results: Vec<Value> = p["getVariableData"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|d| {
                    let value = match d["variable"]["name"].as_str() {
                        Some("Enabled" | "Available") => Some("true".to_owned()),
                        Some("ItemsPerMessage") => Some(ITEMS.to_string()),
                        _ => None,
                    };
                    match value {
                        Some(v) => json!({"attributeStatus": "Accepted", "component": d["component"], "variable": d["variable"], "attributeValue": v}),
                        None => json!({"attributeStatus": "UnknownVariable", "component": d["component"], "variable": d["variable"]}),
                    }
                })
                .collect();
            json!({"getVariableResult": results})
        }
        "GetLocalListVersion" if v16 => json!({"listVersion": h.version}),
        "GetLocalListVersion" => json!({"versionNumber": h.version}),
        "SendLocalList" => {
            let version = if v16 { &p["listVersion"] } else { &p["versionNumber"] };
            let full = p["updateType"] == "Full";
            let entries = p["localAuthorizationList"].as_array().cloned().unwrap_or_default();
            if full {
                h.list.clear();
                h.victim = None;
            }
            for e in &entries {
                let (token, info) = if v16 {
                    (&e["idTag"], e.get("idTagInfo"))
                } else {
                    (&e["idToken"]["idToken"], e.get("idTokenInfo"))
                };
                let token = token.as_str().unwrap_or_default();
                let status = info.map(|i| i["status"].as_str().unwrap_or("").to_owned());
                match &status {
                    Some(_) => h.list.insert(token.to_owned()),
                    None => h.list.remove(token),
                };
                if token == VICTIM {
                    if status.as_deref() == Some("Blocked") && h.blocked_at.is_none() {
                        h.blocked_at = Some(Instant::now());
                    }
                    h.victim = status;
                }
            }
            h.version = version.as_i64().unwrap_or(0);
            h.sends += 1;
            h.synced_once = true;
            json!({"status": "Accepted"})
        }
        "ClearCache" => {
            h.clears += 1;
            json!({"status": "Accepted"})
        }
        _ => json!({"status": "Accepted"}),
    }
}

/// SendLocalList and ClearCache messages the chargers got so far.
fn totals(shared: &Shared) -> (usize, usize) {
    let all = shared.lock().unwrap();
    (
        all.values().map(|h| h.sends).sum(),
        all.values().map(|h| h.clears).sum(),
    )
}

fn cpu_s(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one(Statement::from_string(db.get_database_backend(), sql.to_owned()))
        .await?
        .context("a row")?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

#[allow(clippy::too_many_arguments)]
async fn run(
    ocpp_url: String,
    api_url: String,
    database_url: String,
    admin_password: String,
    server_pid: Option<u32>,
    timeout_s: u64,
    as_json: bool,
) -> anyhow::Result<()> {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let db = sea_orm::Database::connect(&database_url).await?;
    let chargers = count(&db, "SELECT COUNT(*) FROM charger").await? as usize;
    let tokens = count(&db, "SELECT COUNT(*) FROM id_token").await?;
    let shared: Shared = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(timeout_s);
    let cpu_start = cpu_s(server_pid);
    let started = Instant::now();
    for i in 0..chargers {
        let (url, shared) = (ocpp_url.clone(), Arc::clone(&shared));
        tokio::spawn(async move {
            if let Err(e) = sim(url, i, shared).await {
                eprintln!("charger {i}: {e:#}");
            }
        });
        if i % 50 == 49 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    // Every charger holds its place's whole list when what it holds equals the place's count.
    let wanted: HashMap<String, i64> = {
        let sql = "SELECT c.id, p.entries FROM charger c JOIN local_list_place p \
            ON p.key = CAST(c.organisation_id AS TEXT) || ':' || CAST(c.site_id AS TEXT)";
        let rows = loop {
            let rows = db
                .query_all(Statement::from_string(db.get_database_backend(), sql.to_owned()))
                .await?;
            if rows.len() >= chargers || Instant::now() > deadline {
                break rows;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        rows.iter()
            .map(|r| Ok((r.try_get_by_index::<String>(0)?, r.try_get_by_index::<i32>(1)? as i64)))
            .collect::<anyhow::Result<_>>()?
    };
    loop {
        let done = {
            let all = shared.lock().unwrap();
            wanted
                .iter()
                .filter(|(id, n)| {
                    all.get(*id)
                        .is_some_and(|h| h.synced_once && h.list.len() as i64 == **n)
                })
                .count()
        };
        if done == chargers {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {done} of {chargers} chargers hold their whole list");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And voltgate agrees: nothing left to send anywhere.
    let pending =
        "SELECT COUNT(*) FROM charger_local_list WHERE state <> 'synced' OR full_pending OR clear_cache_pending";
    while count(&db, pending).await? > 0 {
        if Instant::now() > deadline {
            bail!("chargers still pending after their lists arrived");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let full_sync = started.elapsed();
    let cpu_full = cpu_s(server_pid).zip(cpu_start).map(|(b, a)| b - a);
    let entries_total = count(&db, "SELECT COUNT(*) FROM local_list_entry").await?;
    let holding: Vec<String> = {
        let all = shared.lock().unwrap();
        all.iter()
            .filter(|(_, h)| h.victim.is_some())
            .map(|(id, _)| id.clone())
            .collect()
    };
    let (sends_before, clears_before) = totals(&shared);
    let audit_before = count(&db, "SELECT COUNT(*) FROM audit").await?;

    // Block the card through the API, as an operator would.
    let http = reqwest::Client::new();
    let base = format!("{}/api/v1", api_url.trim_end_matches('/'));
    let login: Value = http
        .post(format!("{base}/login"))
        .json(&json!({"username": "admin", "password": admin_password}))
        .send()
        .await?
        .json()
        .await?;
    let bearer = login["token"].as_str().context("login")?.to_owned();
    let victim_id = count(&db, &format!("SELECT id FROM id_token WHERE token = '{VICTIM}'")).await?;
    let cpu_before = cpu_s(server_pid);
    let blocked = Instant::now();
    let answer = http
        .patch(format!("{base}/id-tokens/{victim_id}"))
        .bearer_auth(&bearer)
        .json(&json!({"status": "Blocked"}))
        .send()
        .await?;
    if !answer.status().is_success() {
        bail!("blocking answered {}", answer.status());
    }
    let api_answer = blocked.elapsed();
    // Every charger whose list holds the card afterwards (a blocked card is listed wherever
    // it is in scope), and those that held it before.
    let mut latencies: Vec<Duration> = loop {
        let lat: Option<Vec<Duration>> = {
            let all = shared.lock().unwrap();
            let affected: Vec<&Held> = all
                .values()
                .filter(|h| h.victim.is_some() || h.blocked_at.is_some())
                .collect();
            let everyone = affected.len() >= holding.len() && affected.iter().all(|h| h.blocked_at.is_some());
            everyone.then(|| {
                affected
                    .iter()
                    .filter_map(|h| h.blocked_at)
                    .map(|at| at - blocked)
                    .collect()
            })
        };
        if let Some(l) = lat {
            break l;
        }
        if Instant::now() > deadline {
            bail!("the block did not reach every charger in time");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // Cache clears follow the list in the same sync; give the last ones a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu_block = cpu_s(server_pid).zip(cpu_before).map(|(b, a)| b - a);
    latencies.sort();
    let (sends_after, clears_after) = totals(&shared);
    let latest = count(&db, "SELECT MAX(version) FROM local_list_place").await?;
    let entries_written = count(
        &db,
        &format!("SELECT COUNT(*) FROM local_list_entry WHERE id_token = '{VICTIM}'"),
    )
    .await?;
    let pct = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    let out = json!({
        "chargers": chargers,
        "tokens": tokens,
        "places": count(&db, "SELECT COUNT(*) FROM local_list_place").await?,
        "entries_stored": entries_total,
        "full_sync_s": full_sync.as_secs_f64(),
        "full_sync_server_cpu_s": cpu_full,
        "block": {
            "affected_chargers": latencies.len(),
            "api_answer_ms": api_answer.as_secs_f64() * 1000.0,
            "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": pct(1.0),
            "send_local_list": sends_after - sends_before,
            "clear_cache": clears_after - clears_before,
            "entries_rewritten": entries_written,
            "place_version_now": latest,
            "server_cpu_s": cpu_block,
            "audit_rows": count(&db, "SELECT COUNT(*) FROM audit").await? - audit_before,
        },
    });
    if as_json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Args::parse().step {
        Step::Setup {
            database_url,
            tokens,
            chargers,
            sites,
        } => setup(&database_url, tokens, chargers, sites).await,
        Step::Run {
            ocpp_url,
            api_url,
            database_url,
            admin_password,
            server_pid,
            timeout_s,
            json,
        } => {
            run(
                ocpp_url,
                api_url,
                database_url,
                admin_password,
                server_pid,
                timeout_s,
                json,
            )
            .await
        }
    }
}
