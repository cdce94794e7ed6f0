//! Command-line interface: `serve`, `migrate`, and helpers an admin needs before the HTTP API.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::crypto;
use crate::server::{Server, redact};
use crate::store::Store;

/// voltgate: OCPP 1.6 / 2.0.1 central system with organisation-scoped access control.
#[derive(Debug, Parser)]
#[command(name = "voltgate", version, about)]
pub struct Cli {
    /// Config file (default: config/default.toml when it exists).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply pending migrations, then serve chargers until SIGINT/SIGTERM.
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Register and list charge points.
    #[command(subcommand)]
    Charger(ChargerCommand),
    /// Create and list organisations.
    #[command(subcommand)]
    Org(OrgCommand),
}

/// `voltgate charger ...`
#[derive(Debug, Subcommand)]
pub enum ChargerCommand {
    /// Register a charge point (or assign one waiting as unassigned).
    Add {
        /// Charge point identity, as in ws://host/ocpp/{ID}.
        id: String,
        /// Organisation id or exact name.
        #[arg(long)]
        organisation: String,
        /// Basic-auth password; generated and printed once when omitted for a new charger.
        #[arg(long)]
        password: Option<String>,
    },
    /// List charge points.
    List,
}

/// `voltgate org ...`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation below another.
    Add {
        name: String,
        /// Parent organisation id or exact name.
        #[arg(long)]
        parent: String,
    },
    /// List organisations as a tree.
    List,
}

/// Runs a parsed command with a loaded config.
pub async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let store = Store::connect(&config.database)
                .await
                .with_context(|| connect_context(&config))?;
            let applied = store.migrate().await.context("applying migrations")?;
            println!("applied {applied} migration(s)");
            Ok(())
        }
        Command::Charger(cmd) => charger(cmd, open(&config).await?).await,
        Command::Org(cmd) => org(cmd, open(&config).await?).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    raise_open_file_limit();
    let server = Server::start(config).await?;
    shutdown_signal().await;
    tracing::info!("shutting down: closing charger connections");
    server.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}

/// Each charger holds a socket; the default soft limit (often 1024) would cap the fleet.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::info!(
            open_files = limit,
            connections = limit.saturating_sub(64),
            "open-file limit raised"
        ),
        Err(e) => tracing::warn!(error = %e, "could not raise the open-file limit"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    let store = Store::open(&config.database)
        .await
        .with_context(|| connect_context(config))?;
    store
        .ensure_root_organisation(&config.bootstrap.root_organisation)
        .await
        .context("creating the root organisation")?;
    Ok(store)
}

fn connect_context(config: &Config) -> String {
    format!("opening database {}", redact(&config.database.url))
}

async fn charger(cmd: ChargerCommand, store: Store) -> anyhow::Result<()> {
    match cmd {
        ChargerCommand::Add {
            id,
            organisation,
            password,
        } => {
            let org = store.find_organisation(&organisation).await?;
            let existing = store.charger(&id).await?;
            // A charger keeps its password unless a new one is given; a new charger always
            // gets one, so security profile 1 works without a second step.
            let generated = match (
                &password,
                existing.as_ref().and_then(|c| c.password_hash.as_ref()),
            ) {
                (None, None) => Some(crypto::random_token(18)),
                _ => None,
            };
            let hash = match password.as_ref().or(generated.as_ref()) {
                Some(p) => Some(
                    crypto::hash_password(p)
                        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?,
                ),
                None => None,
            };
            let charger = store.register_charger(&id, org.id, hash).await?;
            println!(
                "charger {} registered in organisation {} ({})",
                charger.id, org.id, org.name
            );
            if let Some(p) = generated {
                println!("password (shown once): {p}");
            }
            Ok(())
        }
        ChargerCommand::List => {
            println!(
                "{:<24} {:>6} {:<7} {:<9} {:<16} {:<16} LAST SEEN",
                "ID", "ORG", "OCPP", "STATUS", "VENDOR", "MODEL"
            );
            for c in store.list_chargers().await? {
                println!(
                    "{:<24} {:>6} {:<7} {:<9} {:<16} {:<16} {}",
                    c.id,
                    c.organisation_id.map_or("-".into(), |o| o.to_string()),
                    c.ocpp_version.as_deref().unwrap_or("-"),
                    c.registration_status,
                    c.vendor.as_deref().unwrap_or("-"),
                    c.model.as_deref().unwrap_or("-"),
                    c.last_seen_at.map_or("never".into(), |t| t.to_rfc3339()),
                );
            }
            Ok(())
        }
    }
}

async fn org(cmd: OrgCommand, store: Store) -> anyhow::Result<()> {
    match cmd {
        OrgCommand::Add { name, parent } => {
            let parent = store.find_organisation(&parent).await?;
            let org = store.create_organisation(&name, parent.id).await?;
            println!(
                "organisation {} ({}) created below {} ({}); path {}",
                org.id, org.name, parent.id, parent.name, org.path
            );
            Ok(())
        }
        OrgCommand::List => {
            for o in store.list_organisations().await? {
                let depth = o.path.matches('/').count().saturating_sub(2);
                println!("{:>6}  {}{}", o.id, "  ".repeat(depth), o.name);
            }
            Ok(())
        }
    }
}
