//! An engineer's day, from a script: log in, find a charger, reset it, read the answer.
//!
//! ```text
//! cargo run --example remote_reset -- --api http://127.0.0.1:8080 --user admin --password … --charger CP-1 [--hard]
//! ```

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
struct Args {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    api: String,
    #[arg(long)]
    user: String,
    #[arg(long)]
    password: String,
    #[arg(long)]
    charger: String,
    /// Hard reset instead of soft.
    #[arg(long)]
    hard: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let http = reqwest::Client::new();
    let base = format!("{}/api/v1", args.api.trim_end_matches('/'));

    let login = http
        .post(format!("{base}/login"))
        .json(&json!({"username": args.user, "password": args.password}))
        .send()
        .await
        .context("logging in")?;
    if !login.status().is_success() {
        bail!(
            "login failed: {} {}",
            login.status(),
            login.text().await.unwrap_or_default()
        );
    }
    let token = login.json::<Value>().await?["token"]
        .as_str()
        .context("no token in the answer")?
        .to_owned();

    let charger: Value = http
        .get(format!("{base}/chargers/{}", args.charger))
        .bearer_auth(&token)
        .send()
        .await?
        .json()
        .await?;
    println!(
        "charger {}: online={} ocpp={} firmware={}",
        args.charger, charger["online"], charger["ocpp_version"], charger["firmware_version"]
    );

    let kind = if args.hard { "hard" } else { "soft" };
    let started = std::time::Instant::now();
    let reset = http
        .post(format!("{base}/chargers/{}/reset", args.charger))
        .bearer_auth(&token)
        .json(&json!({"type": kind}))
        .send()
        .await?;
    let status = reset.status();
    let body: Value = reset.json().await?;
    println!("{kind} reset -> HTTP {status} in {:.1?}: {body}", started.elapsed());

    http.post(format!("{base}/logout")).bearer_auth(&token).send().await?;
    Ok(())
}
