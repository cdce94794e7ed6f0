//! Access-control benchmark: builds a tree of organisations with chargers spread over it and
//! times a subtree-scoped charger list and single gate checks.
//!
//! ```text
//! cargo run --release --example access_bench -- [--orgs 10000] [--chargers 100000] [--database-url URL]
//! ```
//!
//! Without `--database-url` it uses a temporary SQLite file. The tree is 10-ary (org `i` hangs
//! below org `(i - 2) / 10 + 1`), so depth grows with the log of the count.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::Utc;
use clap::Parser;
use entity::{charger, connector, organisation};
use sea_orm::{ActiveValue::Set, EntityTrait};
use tokio_util::sync::CancellationToken;
use voltgate::access::{Membership, Permission, Principal, Role};
use voltgate::config::Config;
use voltgate::services;
use voltgate::services::dashboard::DashboardQuery;
use voltgate::state::AppState;
use voltgate::store::{Page, Store};
use voltgate::tally::Tally;

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value_t = 10_000)]
    orgs: i32,
    #[arg(long, default_value_t = 100_000)]
    chargers: i32,
    /// Database to fill (must be empty); default: a temporary SQLite file.
    #[arg(long)]
    database_url: Option<String>,
    /// Timed repetitions of each query.
    #[arg(long, default_value_t = 200)]
    runs: u32,
}

fn parent_of(id: i32) -> Option<i32> {
    (id > 1).then(|| (id - 2) / 10 + 1)
}

fn path_of(id: i32) -> String {
    let mut chain = vec![id];
    let mut cur = id;
    while let Some(p) = parent_of(cur) {
        chain.push(p);
        cur = p;
    }
    chain.reverse();
    let mut path = String::from("/");
    for id in chain {
        path.push_str(&format!("{id}/"));
    }
    path
}

struct Stats {
    p50: Duration,
    p99: Duration,
}

async fn time<F, Fut, T>(runs: u32, mut f: F) -> anyhow::Result<Stats>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    f().await?; // warm caches
    let mut samples = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        let start = Instant::now();
        f().await?;
        samples.push(start.elapsed());
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Ok(Stats {
        p50: at(0.5),
        p99: at(0.99),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let keep = std::env::var_os("BENCH_KEEP_DB").is_some();
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()));
    let mut config = Config::for_tests(&url);
    config.database.max_connections = 8;
    let store = Store::open(&config.database).await.context("opening the database")?;
    anyhow::ensure!(store.count_organisations().await? == 0, "the database must be empty");

    let started = Instant::now();
    let now = Utc::now();
    for chunk in (1..=args.orgs).collect::<Vec<_>>().chunks(1000) {
        let rows = chunk.iter().map(|&id| organisation::ActiveModel {
            id: Set(id),
            name: Set(format!("org-{id}")),
            parent_id: Set(parent_of(id)),
            path: Set(path_of(id)),
            require_2fa: Set(false),
            created_at: Set(now),
            ..Default::default()
        });
        organisation::Entity::insert_many(rows)
            .exec_without_returning(store.connection())
            .await?;
    }
    for chunk in (0..args.chargers).collect::<Vec<_>>().chunks(1000) {
        let rows = chunk.iter().map(|&i| charger::ActiveModel {
            id: Set(format!("CP-{i:06}")),
            organisation_id: Set(Some(i % args.orgs + 1)),
            site_id: Set(None),
            password_hash: Set(None),
            ocpp_version: Set(Some("1.6".into())),
            vendor: Set(Some("Bench".into())),
            model: Set(Some("B-1".into())),
            serial: Set(None),
            firmware_version: Set(None),
            registration_status: Set(entity::values::RegistrationStatus::Accepted),
            last_seen_at: Set(None),
            last_boot_at: Set(None),
            created_at: Set(now),
            ..Default::default()
        });
        charger::Entity::insert_many(rows)
            .exec_without_returning(store.connection())
            .await?;
    }
    // Two connectors per charger, one in ten faulted: what the dashboard counts.
    for chunk in (0..args.chargers).collect::<Vec<_>>().chunks(500) {
        let rows = chunk.iter().flat_map(|&i| {
            (1..=2).map(move |n| connector::ActiveModel {
                charger_id: Set(format!("CP-{i:06}")),
                evse_id: Set(n),
                connector_id: Set(n),
                status: Set(if i % 10 == 0 && n == 1 { "Faulted" } else { "Available" }.into()),
                error_code: Set(None),
                info: Set(None),
                vendor_error_code: Set(None),
                updated_at: Set(now),
            })
        });
        connector::Entity::insert_many(rows)
            .exec_without_returning(store.connection())
            .await?;
    }
    if url.starts_with("postgres") {
        use sea_orm::ConnectionTrait;
        store.connection().execute_unprepared("ANALYZE").await?;
    }
    let fill = started.elapsed();

    let state = AppState::new(config, store.clone())?;
    // The dashboard sums the tally's per-organisation counts: built once as at start, then
    // kept as a running node keeps it.
    let t = Instant::now();
    state.tally.build(&store, &state.fleet).await?;
    let tally_build = t.elapsed();
    let shutdown = CancellationToken::new();
    voltgate::tally::spawn(
        state.tally.clone(),
        store.clone(),
        state.fleet.clone(),
        state.live.clone(),
        shutdown.clone(),
    );
    // An operator on org 2 (a child of the root): about a tenth of the tree below it.
    let org2 = store.organisation(2).await?.context("org 2")?;
    let principal = Principal::new(
        1,
        "bench".into(),
        vec![Membership {
            organisation_id: org2.id,
            path: org2.path.clone(),
            role: Role::Operator,
            window: Default::default(),
        }],
    );
    let scope = principal
        .scope(Permission::ChargersRead)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let visible = store
        .chargers_in(
            &scope,
            None,
            Page {
                limit: u64::MAX >> 1,
                offset: 0,
            },
        )
        .await?
        .len();

    let runs = args.runs;
    let list50 = time(runs, || async {
        Ok(store.chargers_in(&scope, None, Page::default()).await?)
    })
    .await?;
    let list500 = time(runs, || async {
        Ok(store.chargers_in(&scope, None, Page { limit: 500, offset: 0 }).await?)
    })
    .await?;
    let deep = time(runs, || async {
        Ok(store
            .chargers_in(
                &scope,
                None,
                Page {
                    limit: 50,
                    offset: (visible as u64).saturating_sub(50),
                },
            )
            .await?)
    })
    .await?;
    let api_list = time(runs, || async {
        services::chargers::list(&state, &principal, &Default::default())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;

    // The gate itself is pure: memberships against a materialised path.
    // The deepest organisation below org 2 (first child each time): a worst case for the path.
    let mut deepest = 2;
    while 10 * (deepest - 1) + 2 <= args.orgs {
        deepest = 10 * (deepest - 1) + 2;
    }
    let target = store.organisation(deepest).await?.context("deepest org")?;
    let outside = store.organisation(3).await?.context("org 3")?;
    const GATE_RUNS: u32 = 1_000_000;
    let t = Instant::now();
    let mut allowed = 0u32;
    for i in 0..GATE_RUNS {
        let org = if i % 2 == 0 { &target } else { &outside };
        allowed += u32::from(principal.allows(Permission::RemoteMaintenance, org.into()));
    }
    let gate_ns = t.elapsed().as_nanos() as f64 / f64::from(GATE_RUNS);
    // The gate as a handler runs it: load the charger and its organisation, then decide.
    let charger_id = format!("CP-{:06}", deepest - 1);
    let gate_db = time(runs, || async {
        services::chargers::get(&state, &principal, &charger_id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;

    // The dashboard counts over the whole reach: the operator's subtree, and the whole tree.
    let dashboard = time(runs, || async {
        services::dashboard::get(&state, &principal, &DashboardQuery::default())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    let root_org = store.organisation(1).await?.context("the root")?;
    let root = Principal::system(&root_org);
    let root_dashboard = time(runs, || async {
        services::dashboard::get(&state, &root, &DashboardQuery::default())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    // The same, counted in the database as before the tally (and as for home chargers now).
    let mut counting = state.clone();
    counting.tally = Tally::default();
    let root_counted = time(runs.min(20), || async {
        services::dashboard::get(&counting, &root, &DashboardQuery::default())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
    .await?;
    shutdown.cancel();

    let backend = if url.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "access benchmark on {backend}: {} organisations, {} chargers (filled in {:.1?})",
        args.orgs, args.chargers, fill
    );
    println!(
        "principal: operator on {} ({}), sees {visible} chargers; gate allowed {allowed} of {GATE_RUNS}",
        org2.name, org2.path
    );
    println!("{:<52} {:>10} {:>10}", "operation", "p50", "p99");
    let row = |name: &str, s: &Stats| println!("{name:<52} {:>10.2?} {:>10.2?}", s.p50, s.p99);
    row("store: subtree charger list, first 50", &list50);
    row("store: subtree charger list, first 500", &list500);
    row("store: subtree charger list, last page of 50", &deep);
    row("service: GET /chargers (50, with live state)", &api_list);
    row("service: GET /chargers/{id} (load + gate)", &gate_db);
    row(&format!("service: GET /dashboard ({visible} chargers)"), &dashboard);
    row(
        &format!("service: GET /dashboard, root ({} chargers)", args.chargers),
        &root_dashboard,
    );
    row("  the same, counted in the database (no tally)", &root_counted);
    println!(
        "{:<52} {:>10.2?}",
        "tally: built from the database at start", tally_build
    );
    println!("{:<52} {:>10.0} ns", "gate: Principal::authorize (in memory)", gate_ns);
    if keep {
        println!("database kept at {}", dir.keep().display());
    }
    Ok(())
}
