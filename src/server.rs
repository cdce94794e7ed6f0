//! Start-up and shutdown of a whole node: database, migrations, bootstrap, listeners.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cluster::{Cluster, Fleet};
use crate::config::{Config, redact};
use crate::http::serve::{Stalls, serve};
use crate::state::AppState;
use crate::store::Store;
use crate::tls::{Tls, TlsListener};

/// A running node. Dropping it does not stop it; call [`Server::shutdown`].
#[derive(Debug)]
pub struct Server {
    pub state: AppState,
    /// The bound OCPP address (useful when the config asked for port 0).
    pub ocpp_addr: SocketAddr,
    /// The bound `wss://` address, when `ocpp.tls_listen` is set.
    pub ocpp_tls_addr: Option<SocketAddr>,
    /// The bound HTTP API address.
    pub api_addr: SocketAddr,
    shutdown: CancellationToken,
    /// The gateway's accept loops: `ws://` and, if configured, `wss://`.
    gateway_tasks: Vec<JoinHandle<()>>,
    api_task: JoinHandle<()>,
    /// The campaign runner: it gives up its leases as it stops.
    campaigns: JoinHandle<()>,
    /// The alert watcher and webhook sender.
    alerts: JoinHandle<()>,
    cluster: Option<Arc<Cluster>>,
    tls: Option<Arc<Tls>>,
}

impl Server {
    /// Connects, migrates, bootstraps an empty database and starts listening.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let store = Store::open(&config.database)
            .await
            .with_context(|| format!("opening database {}", redact(&config.database.url)))?;
        crate::services::auth::bootstrap(&store, &config)
            .await
            .context("bootstrapping the root organisation and admin")?;
        if config.cluster.nats_url.is_none() {
            // Alone and not serving yet, nothing can be waiting for an answer: a command still
            // `pending` was cut off by this node's last stop (a crash, kill -9).
            let left = store.interrupt_pending_commands(chrono::Utc::now()).await?;
            if left > 0 {
                tracing::warn!(commands = left, "commands the last run left pending marked interrupted");
            }
        }

        let bound = Bound::bind(&config)?;
        let (ocpp_addr, api_addr, ocpp_tls_addr, tls) =
            (bound.ocpp_addr, bound.api_addr, bound.ocpp_tls_addr, bound.tls);
        let security_profile = config.ocpp.security_profile;
        // The state names the ports really bound (port 0 asks the OS for one), so what the
        // console tells a technician to type into a charger is where voltgate listens.
        let mut config = config;
        config.ocpp.listen = ocpp_addr;
        config.ocpp.tls_listen = ocpp_tls_addr;
        let mut state = AppState::new(config, store)?;
        // Join the cluster before accepting chargers, so every connection is claimed.
        let cluster = join_cluster(&mut state).await?;
        let shutdown = CancellationToken::new();
        let gateway = |listener, tls| tokio::spawn(Arc::clone(&state.gateway).run(listener, tls, shutdown.clone()));
        let mut gateway_tasks = vec![gateway(bound.ocpp, None)];
        tracing::info!(%ocpp_addr, security_profile, "OCPP endpoint listening on ws://{ocpp_addr}/ocpp/{{chargePointId}}");
        if let (Some(listener), Some(addr)) = (bound.ocpp_tls, ocpp_tls_addr) {
            gateway_tasks.push(gateway(listener, tls.clone()));
            tracing::info!(%addr, "OCPP endpoint listening on wss://{addr}/ocpp/{{chargePointId}}");
        }

        let api_tls = if state.config.api.tls { tls.clone() } else { None };
        let api_task = serve_api(&state, bound.api, api_addr, api_tls, shutdown.clone());
        let (campaigns, alerts) = spawn_background(&state, &shutdown)?;

        Ok(Self {
            state,
            ocpp_addr,
            ocpp_tls_addr,
            api_addr,
            shutdown,
            gateway_tasks,
            api_task,
            campaigns,
            alerts,
            cluster,
            tls,
        })
    }

    /// Reads the `[tls]` files again (SIGHUP): new handshakes use them, established
    /// connections keep theirs. On error the old certificates stay.
    pub fn reload_tls(&self) -> Result<(), crate::tls::TlsError> {
        match &self.tls {
            Some(tls) => tls.reload(),
            None => Ok(()),
        }
    }

    /// Drains the node: stops accepting, closes every charger connection with 1001 (they
    /// reconnect, in a cluster possibly to another node), waits for them, then releases this
    /// node's claims.
    pub async fn shutdown(self) {
        self.state.live.close();
        self.shutdown.cancel();
        for task in self.gateway_tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "gateway task failed");
            }
        }
        if let Err(e) = self.api_task.await {
            tracing::error!(error = %e, "API task failed");
        }
        for (task, what) in [(self.campaigns, "campaign runner"), (self.alerts, "alerts")] {
            if let Err(e) = task.await {
                tracing::error!(error = %e, what, "task failed");
            }
        }
        if let Some(cluster) = self.cluster {
            cluster.leave().await;
        }
    }
}

/// The listeners of a node, bound before anything is served.
struct Bound {
    ocpp: TcpListener,
    ocpp_addr: SocketAddr,
    api: TcpListener,
    api_addr: SocketAddr,
    tls: Option<Arc<Tls>>,
    ocpp_tls: Option<TcpListener>,
    ocpp_tls_addr: Option<SocketAddr>,
}

impl Bound {
    fn bind(config: &Config) -> anyhow::Result<Self> {
        let ocpp = listen(config.ocpp.listen).with_context(|| format!("binding ocpp.listen {}", config.ocpp.listen))?;
        let ocpp_addr = ocpp.local_addr().context("reading the OCPP listener address")?;
        let api = listen(config.api.listen).with_context(|| format!("binding api.listen {}", config.api.listen))?;
        let api_addr = api.local_addr().context("reading the API listener address")?;
        let tls = match &config.tls {
            Some(files) => {
                let charger_ca = config.ca.as_ref().map(|ca| ca.cert_file.as_path());
                Some(Arc::new(
                    Tls::load(files, charger_ca).context("loading the [tls] files")?,
                ))
            }
            None => None,
        };
        let ocpp_tls = match config.ocpp.tls_listen {
            Some(addr) => Some(listen(addr).with_context(|| format!("binding ocpp.tls_listen {addr}"))?),
            None => None,
        };
        let ocpp_tls_addr = match &ocpp_tls {
            Some(l) => Some(l.local_addr().context("reading the wss:// listener address")?),
            None => None,
        };
        Ok(Self {
            ocpp,
            ocpp_addr,
            api,
            api_addr,
            tls,
            ocpp_tls,
            ocpp_tls_addr,
        })
    }
}

/// The node's own loops until `shutdown`: housekeeping, password rotation, certificates,
/// local lists, the tally; answers the two a stop waits for (campaigns, alerts).
fn spawn_background(
    state: &AppState,
    shutdown: &CancellationToken,
) -> anyhow::Result<(JoinHandle<()>, JoinHandle<()>)> {
    crate::services::housekeeping::spawn(state.clone(), shutdown.clone());
    crate::commands::password::spawn_rotation(state.clone(), shutdown.clone());
    crate::commands::certificate::spawn(state.clone(), shutdown.clone());
    crate::commands::local_list::spawn(state.clone(), shutdown.clone());
    crate::tally::spawn(
        state.tally.clone(),
        state.store.clone(),
        state.fleet.clone(),
        state.live.clone(),
        shutdown.clone(),
    );
    let campaigns = crate::commands::campaign::spawn(state.clone(), shutdown.clone());
    let alerts = crate::alerts::spawn(state.clone(), shutdown.clone())?;
    Ok((campaigns, alerts))
}

/// Binds a listener that a restarted node can take over at once (SO_REUSEADDR, so sockets of
/// the previous process in TIME_WAIT do not block it) with a backlog deep enough for a fleet
/// reconnecting at the same moment.
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// Joins the cluster when `cluster.nats_url` is set, before any charger is accepted, so every
/// connection is claimed; commands then reach chargers on other nodes through it.
async fn join_cluster(state: &mut AppState) -> anyhow::Result<Option<Arc<Cluster>>> {
    if state.config.cluster.nats_url.is_none() {
        return Ok(None);
    }
    let cluster = Cluster::start(
        &state.config.cluster,
        state.config.cluster.node_id(),
        state.config.ocpp.call_timeout(),
        state.gateway.registry().clone(),
        state.live.clone(),
    )
    .await
    .context("joining the cluster (cluster.nats_url)")?;
    state.fleet = Fleet::clustered(state.gateway.registry().clone(), Arc::clone(&cluster));
    Ok(Some(cluster))
}

/// Serves the API and the console on `api_listener` until `shutdown`.
fn serve_api(
    state: &AppState,
    api_listener: tokio::net::TcpListener,
    api_addr: SocketAddr,
    api_tls: Option<Arc<Tls>>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let router = crate::api::router(state.clone(), crate::console::router());
    // Before routing, so `/api/v1/organisations/3.0` reaches the route for organisation 3.
    let app = tower::Layer::layer(&tower::util::MapRequestLayer::new(crate::api::whole_number_ids), router);
    let scheme = if api_tls.is_some() { "https" } else { "http" };
    let stalls = Stalls {
        headers: std::time::Duration::from_secs(state.config.api.header_timeout_s),
        writes: std::time::Duration::from_secs(state.config.api.write_timeout_s),
    };
    let api_task = tokio::spawn(async move {
        match api_tls {
            Some(tls) => serve(TlsListener::new(api_listener, tls), app, stalls, shutdown).await,
            None => serve(api_listener, app, stalls, shutdown).await,
        }
    });
    tracing::info!(%api_addr, "HTTP API listening on {scheme}://{api_addr}/api/v1");
    api_task
}
