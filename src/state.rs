//! What every part of a running node shares, passed explicitly to every layer above the
//! gateway. It sits below the services, the API and the console, and imports none of them.

use std::sync::Arc;

use crate::access::throttle::LoginThrottle;
use crate::ca::ChargerCa;
use crate::cluster::{CommandSlots, Fleet};
use crate::config::Config;
use crate::crypto::PasswordHasher;
use crate::gateway::Gateway;
use crate::inspector::MessageLog;
use crate::live::Live;
use crate::mail::Mailer;
use crate::metrics::Metrics;
use crate::station::Station;
use crate::store::Store;
use crate::tally::Tally;

/// What every part of a running node shares; cheap to clone.
#[derive(Clone, Debug)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub gateway: Arc<Gateway>,
    /// Failed-login counters (per node; a cluster multiplies the allowance by its size).
    pub throttle: Arc<LoginThrottle>,
    /// Remote commands in flight, one per charger and kind.
    pub commands: Arc<CommandSlots>,
    /// Bounded argon2, shared by charger handshakes and user logins.
    pub hasher: PasswordHasher,
    /// Invitation and password-reset mail, when `[smtp]` is configured.
    pub mailer: Option<Mailer>,
    /// Every connected charger, on this node or (in a cluster) another: how commands reach them.
    pub fleet: Fleet,
    /// What `/metrics` reports.
    pub metrics: Arc<Metrics>,
    /// voltgate's certificate authority for chargers, when `[ca]` is set.
    pub ca: Option<Arc<ChargerCa>>,
    /// Chargers changing on this node, as it happens.
    pub live: Live,
    /// Chargers and connectors counted per organisation, for the dashboard.
    pub tally: Tally,
}

impl AppState {
    /// State over an open store; the gateway exists but serves nothing until run.
    pub fn new(config: Config, store: Store) -> anyhow::Result<Self> {
        let hasher = PasswordHasher::default().with_params(config.accounts.argon2_params()?);
        let mailer = config.smtp.as_ref().map(Mailer::new).transpose()?;
        let metrics = Arc::new(Metrics::new(store.write_stats()));
        let ca = match &config.ca {
            Some(files) => Some(Arc::new(ChargerCa::load(files)?)),
            None => None,
        };
        let station = Station::new(store.clone(), &config.ocpp, hasher.clone(), ca.clone());
        let log = MessageLog::start(store.clone(), &config.ocpp, metrics.message_log_dropped.clone());
        let gateway = Arc::new(Gateway::new(config.ocpp.clone(), station, log, Arc::clone(&metrics)));
        let fleet = Fleet::local(gateway.registry().clone());
        let live = gateway.station().live().clone();
        Ok(Self {
            live,
            tally: Tally::default(),
            ca,
            fleet,
            metrics,
            throttle: Arc::new(LoginThrottle::new(&config.accounts)),
            config: Arc::new(config),
            store,
            gateway,
            commands: Arc::default(),
            hasher,
            mailer,
        })
    }
}
