//! Start-up and shutdown of a whole node: database, migrations, bootstrap, listeners.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::gateway::Gateway;
use crate::station::Station;
use crate::store::Store;

/// What every part of a running node shares; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub gateway: Arc<Gateway>,
}

/// A running node. Dropping it does not stop it; call [`Server::shutdown`].
#[derive(Debug)]
pub struct Server {
    pub state: AppState,
    /// The bound OCPP address (useful when the config asked for port 0).
    pub ocpp_addr: SocketAddr,
    shutdown: CancellationToken,
    gateway_task: JoinHandle<()>,
}

impl Server {
    /// Connects, migrates, bootstraps an empty database and starts listening.
    pub async fn start(config: Config) -> anyhow::Result<Self> {
        let store = Store::open(&config.database)
            .await
            .with_context(|| format!("opening database {}", redact(&config.database.url)))?;
        bootstrap(&store, &config).await?;

        let listener = TcpListener::bind(config.ocpp.listen)
            .await
            .with_context(|| format!("binding ocpp.listen {}", config.ocpp.listen))?;
        let ocpp_addr = listener
            .local_addr()
            .context("reading the OCPP listener address")?;

        let station = Station::new(store.clone(), &config.ocpp);
        let gateway = Arc::new(Gateway::new(config.ocpp.clone(), station));
        let shutdown = CancellationToken::new();
        let gateway_task = tokio::spawn(Arc::clone(&gateway).run(listener, shutdown.clone()));
        tracing::info!(%ocpp_addr, security_profile = config.ocpp.security_profile, "OCPP endpoint listening on ws://{ocpp_addr}/ocpp/{{chargePointId}}");

        Ok(Self {
            state: AppState {
                config: Arc::new(config),
                store,
                gateway,
            },
            ocpp_addr,
            shutdown,
            gateway_task,
        })
    }

    /// Stops accepting, closes every charger connection with 1001 and waits for them.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        if let Err(e) = self.gateway_task.await {
            tracing::error!(error = %e, "gateway task failed");
        }
    }
}

/// First start against an empty database: create the root organisation.
async fn bootstrap(store: &Store, config: &Config) -> anyhow::Result<()> {
    if store.count_organisations().await? == 0 {
        let root = store
            .ensure_root_organisation(&config.bootstrap.root_organisation)
            .await
            .context("creating the root organisation")?;
        tracing::info!(id = root.id, name = %root.name, "created the root organisation");
    }
    Ok(())
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}
