//! Command-line interface: `serve`, `migrate`, and helpers an admin needs before the HTTP API.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::access::Principal;
use crate::access::Role;
use crate::config::Config;
use crate::config::redact;
use crate::ocpp::ChargerId;
use crate::server::Server;
use crate::services::users::{MembershipIn, NewUser, UserPatch};
use crate::services::{self, chargers::NewCharger, organisations::NewOrganisation};
use crate::state::AppState;
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
    /// Create users and get a locked-out admin back in.
    #[command(subcommand)]
    User(UserCommand),
    /// voltgate's certificate authority for chargers.
    #[command(subcommand)]
    Ca(CaCommand),
}

/// `voltgate ca ...`
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Create the CA in the files `[ca]` names (default voltgate-ca.pem / voltgate-ca.key here).
    Init {
        /// The CA certificate's common name.
        #[arg(long, default_value = "voltgate charger CA")]
        name: String,
    },
}

/// `voltgate user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; without --password-stdin it gets an invitation link (printed, and
    /// e-mailed when [smtp] is configured).
    Add {
        username: String,
        /// Home organisation id or exact name.
        #[arg(long)]
        organisation: String,
        /// Give it this role on its home organisation.
        #[arg(long, value_parser = parse_role)]
        role: Option<Role>,
        #[arg(long)]
        email: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password (read from standard input); its sessions end.
    Passwd { username: String },
    /// Turn a user's two-factor authentication off (lost device); its sessions end and it
    /// enrols again at its next login where that is required.
    #[command(name = "reset-2fa")]
    Reset2fa { username: String },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse::<Role>()
        .map_err(|_| "one of operator, support, maintenance, facility_manager, fleet_manager".to_owned())
}

/// `voltgate charger ...`
#[derive(Debug, Subcommand)]
pub enum ChargerCommand {
    /// Register a charge point (or assign one waiting as unassigned).
    Add {
        /// Charge point identity, as in ws://host/ocpp/{ID}.
        #[arg(value_parser = |s: &str| ChargerId::parse(s))]
        id: ChargerId,
        /// Organisation id or exact name.
        #[arg(long)]
        organisation: String,
        /// Basic-auth password; generated and printed once when omitted for a new charger.
        #[arg(long)]
        password: Option<String>,
        /// 1 Basic auth, 2 TLS + Basic auth, 3 TLS client certificate (default: ocpp.security_profile).
        #[arg(long)]
        security_profile: Option<u8>,
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
        Command::Charger(cmd) => charger(cmd, open(config).await?).await,
        Command::Org(cmd) => org(cmd, open(config).await?).await,
        Command::User(cmd) => user(cmd, open(config).await?).await,
        Command::Ca(CaCommand::Init { name }) => {
            let ca = config.ca.clone().unwrap_or_default();
            crate::ca::ChargerCa::init(&ca, &name)?;
            println!("created the charger CA {name:?}:");
            println!(
                "  certificate {} (install it on chargers as their CSMS root)",
                ca.cert_file.display()
            );
            println!(
                "  private key {} (mode 0600; back it up, never share it)",
                ca.key_file.display()
            );
            if config.ca.is_none() {
                println!(
                    "add to the configuration:\n[ca]\ncert_file = {:?}\nkey_file = {:?}",
                    ca.cert_file, ca.key_file
                );
            }
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    raise_open_file_limit();
    // Listened for before the listeners open: a SIGHUP that arrived while the server was
    // starting would otherwise take the default action and end the process.
    let hangups = hangup_signals();
    let server = Server::start(config).await?;
    tokio::select! {
        _ = shutdown_signal() => {}
        _ = reload_on_hangup(&server, hangups) => {}
    }
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

/// The SIGHUP stream (Unix), or why there is none.
#[cfg(unix)]
fn hangup_signals() -> std::io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
}

#[cfg(not(unix))]
fn hangup_signals() -> std::io::Result<()> {
    Ok(())
}

/// SIGHUP: read the TLS certificate and key files again (after a renewal), keeping every
/// live connection.
#[cfg(unix)]
async fn reload_on_hangup(server: &Server, hangups: std::io::Result<tokio::signal::unix::Signal>) {
    let mut hangup = match hangups {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP");
            return std::future::pending().await;
        }
    };
    while hangup.recv().await.is_some() {
        match server.reload_tls() {
            Ok(()) => tracing::info!("SIGHUP: TLS certificates reloaded"),
            Err(e) => tracing::error!(error = %e, "SIGHUP: TLS certificates not reloaded, keeping the old ones"),
        }
    }
    std::future::pending().await
}

#[cfg(not(unix))]
async fn reload_on_hangup(_server: &Server, _hangups: std::io::Result<()>) {
    std::future::pending().await
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

/// Opens the database (migrating and bootstrapping it like `serve` would).
async fn open(config: Config) -> anyhow::Result<AppState> {
    let store = Store::open(&config.database)
        .await
        .with_context(|| connect_context(&config))?;
    services::auth::bootstrap(&store, &config)
        .await
        .context("bootstrapping")?;
    AppState::new(config, store)
}

fn connect_context(config: &Config) -> String {
    format!("opening database {}", redact(&config.database.url))
}

async fn charger(cmd: ChargerCommand, state: AppState) -> anyhow::Result<()> {
    match cmd {
        ChargerCommand::Add {
            id,
            organisation,
            password,
            security_profile,
        } => {
            let org = state.store.find_organisation(&organisation).await?;
            let admin = system_principal(&state).await?;
            let input = NewCharger {
                id,
                organisation_id: org.id,
                site_id: None,
                password,
                security_profile,
                local_list: None,
            };
            let charger = services::chargers::create(&state, &admin, input)
                .await
                .map_err(cli_error)?;
            println!(
                "charger {} registered in organisation {} ({})",
                charger.id, org.id, org.name
            );
            if let Some(p) = charger.password {
                println!("password (shown once): {p}");
            }
            Ok(())
        }
        ChargerCommand::List => {
            println!(
                "{:<24} {:>6} {:<7} {:<9} {:<16} {:<16} LAST SEEN",
                "ID", "ORG", "OCPP", "STATUS", "VENDOR", "MODEL"
            );
            for c in state.store.list_chargers().await? {
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

async fn org(cmd: OrgCommand, state: AppState) -> anyhow::Result<()> {
    match cmd {
        OrgCommand::Add { name, parent } => {
            let parent = state.store.find_organisation(&parent).await?;
            let admin = system_principal(&state).await?;
            let input = NewOrganisation {
                name,
                parent_id: parent.id,
            };
            let org = services::organisations::create(&state, &admin, input)
                .await
                .map_err(cli_error)?;
            println!(
                "organisation {} ({}) created below {} ({}); path {}",
                org.id, org.name, parent.id, parent.name, org.path
            );
            Ok(())
        }
        OrgCommand::List => {
            for o in state.store.list_organisations().await? {
                let depth = o.path.matches('/').count().saturating_sub(2);
                println!("{:>6}  {}{}", o.id, "  ".repeat(depth), o.name);
            }
            Ok(())
        }
    }
}

async fn user(cmd: UserCommand, state: AppState) -> anyhow::Result<()> {
    let admin = system_principal(&state).await?;
    let find = |username: String| {
        let state = state.clone();
        async move {
            state
                .store
                .user_by_name(&username)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user named {username:?}"))
        }
    };
    match cmd {
        UserCommand::Add {
            username,
            organisation,
            role,
            email,
            password_stdin,
        } => {
            let password = if password_stdin { Some(read_password()?) } else { None };
            add_user(&state, &admin, username, &organisation, role, email, password).await
        }
        UserCommand::Passwd { username } => {
            let u = find(username).await?;
            let patch = UserPatch {
                email: None,
                password: Some(read_password()?),
                disabled: None,
                // Whoever runs the CLI on the server needs no current password.
                current_password: None,
                otp: None,
            };
            services::users::update(&state, &admin, u.id, patch)
                .await
                .map_err(cli_error)?;
            println!("password of {} changed; its sessions ended", u.username);
            Ok(())
        }
        UserCommand::Reset2fa { username } => {
            let u = find(username).await?;
            services::two_factor::reset(&state, &admin, u.id)
                .await
                .map_err(cli_error)?;
            println!(
                "two-factor authentication of {} turned off; its sessions ended",
                u.username
            );
            Ok(())
        }
    }
}

/// `voltgate user add`: through the same service (and gate) as the API, as the system.
async fn add_user(
    state: &AppState,
    admin: &Principal,
    username: String,
    organisation: &str,
    role: Option<Role>,
    email: Option<String>,
    password: Option<String>,
) -> anyhow::Result<()> {
    let org = state.store.find_organisation(organisation).await?;
    let memberships = role
        .map(|role| MembershipIn {
            organisation_id: org.id,
            role,
            valid_from: None,
            valid_until: None,
        })
        .into_iter()
        .collect();
    let input = NewUser {
        username,
        email,
        password,
        organisation_id: Some(org.id),
        memberships,
    };
    let created = services::users::create(state, admin, input).await.map_err(cli_error)?;
    println!(
        "user {} ({}) created in organisation {} ({})",
        created.id, created.username, org.id, org.name
    );
    if let Some(inv) = created.invitation {
        println!(
            "invitation link (works once, until {}): {}",
            inv.expires_at.to_rfc3339(),
            inv.url
        );
        match inv.email_error {
            None => println!("e-mailed to the user"),
            Some(why) => println!("not e-mailed: {why}"),
        }
    }
    Ok(())
}

/// A password from standard input: prompted without echo on a terminal, else the first line.
fn read_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("new password: ").context("reading the password")?
    } else {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        anyhow::bail!("no password given on standard input");
    }
    Ok(password)
}

/// The platform admin at the CLI: an operator on the root, audited as no user.
async fn system_principal(state: &AppState) -> anyhow::Result<Principal> {
    let root = state
        .store
        .ensure_root_organisation(&state.config.bootstrap.root_organisation)
        .await?;
    Ok(Principal::system(&root))
}

fn cli_error(e: services::Error) -> anyhow::Error {
    match e {
        services::Error::Invalid { field, message } if !field.is_empty() => anyhow::anyhow!("{field}: {message}"),
        other => anyhow::anyhow!(other),
    }
}
