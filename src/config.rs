//! Typed configuration, layered: built-in defaults < TOML file < `VOLTGATE__SECTION__KEY`
//! environment variables. Unknown keys and bad values are errors that name the key, so a
//! typo stops start-up instead of being silently ignored.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Prefix of environment overrides: `VOLTGATE__SECTION__KEY`.
const ENV_PREFIX: &str = "VOLTGATE__";

/// String-valued keys read from the environment verbatim (see `apply_raw_string_env`).
const RAW_STRING_KEYS: &[&str] = &[
    "database.url",
    "bootstrap.root_organisation",
    "bootstrap.admin_password",
    "log.filter",
    "api.public_url",
    "smtp.username",
    "smtp.password",
    "cluster.nats_url",
    "cluster.node_id",
    "cluster.secret",
];

/// The file read when `--config` is not given (relative to the working directory).
pub const DEFAULT_CONFIG_PATH: &str = "config/default.toml";

/// Everything voltgate can be told at start-up.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub ocpp: OcppConfig,
    pub api: ApiConfig,
    pub bootstrap: BootstrapConfig,
    pub accounts: AccountsConfig,
    /// Outgoing mail for invitations and password resets; absent: links are only returned
    /// to the operator who made them.
    pub smtp: Option<SmtpConfig>,
    /// Certificate and key for `wss://` (profiles 2 and 3) and HTTPS.
    pub tls: Option<TlsConfig>,
    /// The certificate authority that signs chargers' certificates (SignCertificate).
    pub ca: Option<CaConfig>,
    pub cluster: ClusterConfig,
    pub log: LogConfig,
}

/// `[database]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long a query waits for a connection (the database down, the pool exhausted) before
    /// it fails: API calls answer 503 `database_unavailable`, chargers a CALLERROR.
    pub acquire_timeout_s: u64,
    /// PostgreSQL: the longest one statement may run (a lock held elsewhere, a runaway query)
    /// before the server cancels it and frees its connection; 0 for none. Migrations are not
    /// bounded.
    pub statement_timeout_s: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://voltgate.db?mode=rwc".into(),
            max_connections: 16,
            acquire_timeout_s: 5,
            statement_timeout_s: 30,
        }
    }
}

/// What happens to a charge point id that nobody registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnknownChargers {
    /// Refuse the WebSocket handshake.
    Reject,
    /// Let it connect, answer BootNotification with Pending, list it as unassigned.
    Pending,
}

/// `[ocpp]`: the charge point endpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OcppConfig {
    pub listen: SocketAddr,
    /// `wss://` listener (needs `[tls]`); chargers of profiles 2 and 3 connect only here.
    pub tls_listen: Option<SocketAddr>,
    /// The profile of chargers registered without one of their own (0 to 3).
    pub security_profile: u8,
    pub unknown_chargers: UnknownChargers,
    pub heartbeat_interval_s: u32,
    pub call_timeout_s: u64,
    pub ping_interval_s: u64,
    pub idle_timeout_s: u64,
    pub handshake_timeout_s: u64,
    pub max_message_size: usize,
    pub read_buffer_size: usize,
    pub write_buffer_size: usize,
    pub max_write_buffer_size: usize,
    pub charger_password_memory_kib: u32,
    /// Messages a charger may send per second on average (0: no limit), and in a burst.
    pub rate_limit_per_s: u32,
    pub rate_limit_burst: u32,
    /// A write the charger does not take (it stopped reading) within this long ends the
    /// connection.
    pub write_timeout_s: u64,
    /// Charger connections at most, open, in handshake or waiting for one together; more are
    /// refused with 503 at once (the guard against memory exhaustion).
    pub max_connections: usize,
    /// Handshakes (TLS, HTTP upgrade, authentication) in progress at most; more wait for a
    /// place, and get 503 only when none frees within `handshake_timeout_s`.
    pub max_handshakes: usize,
    pub boot_overload_ms: u64,
    /// A charger time further than this from the receive time is replaced by the receive
    /// time (and the transaction flagged `clock_skew`).
    pub max_clock_skew_s: u64,
    /// Keep every charger's OCPP conversation for the message inspector.
    pub message_log: bool,
    /// Exchanges older than this are pruned (hours; 0 keeps them until the cap).
    pub message_log_retention_h: u64,
    /// Exchanges kept per charger at most; older ones are pruned.
    pub message_log_max_per_charger: u64,
    /// Rotate the password of a connected charger once it is older than this many days
    /// (`None`, the default: only when an operator asks).
    pub password_max_age_days: Option<u32>,
}

impl Default for OcppConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 9000)),
            tls_listen: None,
            security_profile: 1,
            unknown_chargers: UnknownChargers::Reject,
            heartbeat_interval_s: 300,
            call_timeout_s: 30,
            ping_interval_s: 60,
            idle_timeout_s: 900,
            handshake_timeout_s: 10,
            max_message_size: 128 * 1024,
            // Most OCPP frames are under 512 bytes; a larger one is read in 512-byte steps into
            // room reserved for its whole length (BENCHMARKS.md, issue 21, seventh step).
            read_buffer_size: 512,
            write_buffer_size: 0,
            max_write_buffer_size: 256 * 1024,
            charger_password_memory_kib: 256,
            rate_limit_per_s: 20,
            rate_limit_burst: 100,
            write_timeout_s: 30,
            max_connections: 100_000,
            max_handshakes: 1024,
            boot_overload_ms: 5000,
            max_clock_skew_s: 7 * 86_400,
            message_log: true,
            message_log_retention_h: 168,
            message_log_max_per_charger: 10_000,
            password_max_age_days: None,
        }
    }
}

impl OcppConfig {
    /// How long a CSMS-initiated CALL waits for its answer.
    pub fn call_timeout(&self) -> Duration {
        Duration::from_secs(self.call_timeout_s)
    }
}

/// `[api]`: the back-office HTTP API.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    pub listen: SocketAddr,
    pub token_ttl_s: u64,
    /// Base URL people reach this server at; invitation links start with it.
    pub public_url: String,
    /// Serve the API over HTTPS with the `[tls]` certificate.
    pub tls: bool,
    /// How long a client may take to send a request's headers before its connection is
    /// closed (slow or stuck clients hold nothing for long).
    pub header_timeout_s: u64,
    /// How long a response may wait for a client that stops reading (a stuck client never
    /// finishing a large export) before its connection is closed.
    pub write_timeout_s: u64,
    /// How long a client may take to send a request's body (408 after it).
    pub body_timeout_s: u64,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8080)),
            token_ttl_s: 86_400,
            public_url: "http://localhost:8080".into(),
            tls: false,
            header_timeout_s: 10,
            write_timeout_s: 30,
            body_timeout_s: 15,
        }
    }
}

/// `[accounts]`: password policy, argon2 cost, invitations, two-factor and login throttling.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccountsConfig {
    pub password_min_length: usize,
    /// argon2id parameters for new user password hashes (existing hashes keep theirs).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    /// How long an invitation or password-reset link stays valid.
    pub invitation_ttl_s: u64,
    /// Issuer shown in authenticator apps.
    pub totp_issuer: String,
    /// Failed logins allowed per user name and per client address within the window.
    pub login_window_s: u64,
    pub login_failures_per_user: u32,
    pub login_failures_per_address: u32,
}

impl Default for AccountsConfig {
    fn default() -> Self {
        Self {
            password_min_length: 10,
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            invitation_ttl_s: 7 * 86_400,
            totp_issuer: "voltgate".into(),
            login_window_s: 900,
            login_failures_per_user: 5,
            login_failures_per_address: 20,
        }
    }
}

impl AccountsConfig {
    /// The argon2 parameters for new user password hashes.
    pub fn argon2_params(&self) -> Result<argon2::Params, ConfigError> {
        argon2::Params::new(
            self.argon2_memory_kib,
            self.argon2_iterations,
            self.argon2_parallelism,
            None,
        )
        .map_err(|e| {
            ConfigError(format!(
                "accounts.argon2_memory_kib: argon2 parameters out of range ({e}; memory >= 8 x parallelism KiB, iterations >= 1)"
            ))
        })
    }
}

/// `[tls]`: PEM files, read at start and again on SIGHUP.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Server certificate chain (leaf first).
    pub cert_file: PathBuf,
    /// Its private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: PathBuf,
    /// CA certificates that sign chargers' client certificates (security profile 3).
    pub client_ca_file: Option<PathBuf>,
}

/// `[ca]`: voltgate's own certificate authority for chargers' client certificates
/// (`voltgate ca init` makes one). Chargers it signs for are trusted at the TLS listener.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaConfig {
    /// The CA certificate (PEM).
    pub cert_file: PathBuf,
    /// Its private key (PEM, PKCS#8); keep it readable by voltgate only.
    pub key_file: PathBuf,
    /// When set, a CSR's subject O must be this (and the CA's own certificate carries it).
    pub organisation: Option<String>,
    /// How long a charger certificate lasts.
    pub validity_days: u32,
    /// A charger is asked for a new CSR this long before its certificate expires.
    pub renew_before_days: u32,
}

impl Default for CaConfig {
    fn default() -> Self {
        Self {
            cert_file: PathBuf::from("voltgate-ca.pem"),
            key_file: PathBuf::from("voltgate-ca.key"),
            organisation: None,
            validity_days: 365,
            renew_before_days: 30,
        }
    }
}

/// `[cluster]`: several nodes behind a load balancer, on one database, coordinated by NATS.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// `nats://host:4222`; absent: a single node, no NATS needed.
    pub nats_url: Option<String>,
    /// This node's name in the cluster (letters, digits, `-`, `_`); default: random per start.
    pub node_id: Option<String>,
    /// A node not heard from for this long loses its chargers' claims.
    pub lease_s: u64,
    /// Prefix of the KV buckets and subjects, so deployments can share a NATS.
    pub prefix: String,
    /// The key every node signs its requests to the others with (and checks theirs against);
    /// required with `nats_url`, the same on every node, at least 32 characters.
    pub secret: Option<Secret>,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            nats_url: None,
            node_id: None,
            lease_s: 10,
            prefix: "voltgate".into(),
            secret: None,
        }
    }
}

impl ClusterConfig {
    /// The configured node id, or a fresh random one.
    pub fn node_id(&self) -> String {
        self.node_id
            .clone()
            .unwrap_or_else(|| format!("node-{}", crate::crypto::random_hex(4)))
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS (port 587).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: a local relay only.
    None,
}

/// `[smtp]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "SmtpConfig::default_port")]
    pub port: u16,
    #[serde(default = "SmtpConfig::default_tls")]
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// Sender, e.g. `voltgate <noreply@example.com>`.
    pub from: String,
    #[serde(default = "SmtpConfig::default_timeout_s")]
    pub timeout_s: u64,
}

impl SmtpConfig {
    fn default_port() -> u16 {
        587
    }
    fn default_tls() -> SmtpTls {
        SmtpTls::Starttls
    }
    fn default_timeout_s() -> u64 {
        10
    }
}

/// `[bootstrap]`: what a first start against an empty database creates.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BootstrapConfig {
    pub root_organisation: String,
    pub admin_password: Option<Secret>,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        Self {
            root_organisation: "Root".into(),
            admin_password: None,
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// `[log]`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    pub format: LogFormat,
    pub filter: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            filter: "info,sea_orm_migration=warn,sqlx=warn".into(),
        }
    }
}

/// A string that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// A configuration mistake, phrased as one line that names the key.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(String);

impl Config {
    /// Loads defaults, then `path` (or [`DEFAULT_CONFIG_PATH`] if it exists), then the environment.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match path {
            Some(p) if !p.exists() => {
                return Err(ConfigError(format!("config file {} not found", p.display())));
            }
            Some(p) => figment = figment.merge(Toml::file_exact(p)),
            // Outside a checkout the built-in defaults (identical to the file) apply.
            None if Path::new(DEFAULT_CONFIG_PATH).exists() => {
                figment = figment.merge(Toml::file_exact(DEFAULT_CONFIG_PATH))
            }
            None => {}
        }
        let env = Env::prefixed(ENV_PREFIX).split("__").ignore(RAW_STRING_KEYS);
        let mut config = Self::extract(figment.merge(env))?;
        config.apply_raw_string_env();
        config.validate()?;
        Ok(config)
    }

    /// Reads the string keys figment's `Env` would mangle: it parses values, so a password
    /// `007` would arrive as the number 7.
    fn apply_raw_string_env(&mut self) {
        let var = |key: &str| std::env::var(format!("{ENV_PREFIX}{}", key.replace('.', "__").to_uppercase())).ok();
        if let Some(v) = var("database.url") {
            self.database.url = v;
        }
        if let Some(v) = var("bootstrap.root_organisation") {
            self.bootstrap.root_organisation = v;
        }
        if let Some(v) = var("bootstrap.admin_password") {
            self.bootstrap.admin_password = Some(Secret(v));
        }
        if let Some(v) = var("log.filter") {
            self.log.filter = v;
        }
        if let Some(v) = var("api.public_url") {
            self.api.public_url = v;
        }
        if let Some(v) = var("cluster.nats_url") {
            self.cluster.nats_url = Some(v);
        }
        if let Some(v) = var("cluster.node_id") {
            self.cluster.node_id = Some(v);
        }
        if let Some(v) = var("cluster.secret") {
            self.cluster.secret = Some(Secret(v));
        }
        // The section itself comes from `smtp.host` and `smtp.from` (file or environment).
        if let Some(smtp) = &mut self.smtp {
            if let Some(v) = var("smtp.username") {
                smtp.username = Some(v);
            }
            if let Some(v) = var("smtp.password") {
                smtp.password = Some(Secret(v));
            }
        }
    }

    /// Defaults suitable for tests: ephemeral loopback ports, no authentication surprises.
    pub fn for_tests(database_url: &str) -> Self {
        let mut config = Config::default();
        config.database.url = database_url.into();
        config.database.max_connections = 4;
        config.ocpp.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.api.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.ocpp.call_timeout_s = 5;
        config
    }

    fn extract(figment: Figment) -> Result<Self, ConfigError> {
        figment.extract().map_err(|e| {
            // figment may collect several errors; the first is the one to fix first.
            ConfigError(e.into_iter().next().map(|e| e.to_string()).unwrap_or_default())
        })
    }

    /// Checks the rules serde cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.ocpp.validate(self.tls.as_ref(), self.api.tls, self.ca.is_some())?;
        if self.database.max_connections == 0 {
            return fail("database.max_connections", "must be at least 1");
        }
        if self.api.header_timeout_s == 0 {
            return fail("api.header_timeout_s", "must be at least 1");
        }
        if self.api.write_timeout_s == 0 {
            return fail("api.write_timeout_s", "must be at least 1");
        }
        if self.api.body_timeout_s == 0 {
            return fail("api.body_timeout_s", "must be at least 1");
        }
        if self.database.acquire_timeout_s == 0 {
            return fail("database.acquire_timeout_s", "must be at least 1");
        }
        if self.bootstrap.root_organisation.trim().is_empty() {
            return fail("bootstrap.root_organisation", "must not be empty");
        }
        if !(self.api.public_url.starts_with("http://") || self.api.public_url.starts_with("https://")) {
            return fail("api.public_url", "must start with http:// or https://");
        }
        self.accounts.validate()?;
        self.cluster.validate()?;
        if let Some(smtp) = &self.smtp {
            smtp.validate()?;
        }
        if let Some(ca) = &self.ca {
            if ca.validity_days == 0 {
                return fail("ca.validity_days", "must be at least 1");
            }
            if ca.renew_before_days >= ca.validity_days {
                return fail("ca.renew_before_days", "must be shorter than ca.validity_days");
            }
        }
        Ok(())
    }
}

/// A setting's refusal: `key: why`.
fn fail(key: &str, why: &str) -> Result<(), ConfigError> {
    Err(ConfigError(format!("{key}: {why}")))
}

impl OcppConfig {
    /// The OCPP endpoint's settings, and the TLS they need.
    fn validate(&self, tls: Option<&TlsConfig>, api_tls: bool, own_ca: bool) -> Result<(), ConfigError> {
        if self.security_profile > 3 {
            return fail("ocpp.security_profile", "must be 0, 1, 2 or 3");
        }
        if self.security_profile >= 2 && self.tls_listen.is_none() {
            return fail(
                "ocpp.tls_listen",
                "is required for security profiles 2 and 3 (chargers connect with wss://)",
            );
        }
        if self.tls_listen.is_some() && tls.is_none() {
            return fail("tls.cert_file", "is required with ocpp.tls_listen");
        }
        if api_tls && tls.is_none() {
            return fail("tls.cert_file", "is required with api.tls");
        }
        if self.security_profile == 3 && tls.is_none_or(|t| t.client_ca_file.is_none()) && !own_ca {
            return fail(
                "tls.client_ca_file",
                "or [ca] is required for security profile 3 (it signs the chargers' certificates)",
            );
        }
        if self.heartbeat_interval_s == 0 {
            return fail("ocpp.heartbeat_interval_s", "must be at least 1");
        }
        if self.call_timeout_s == 0 {
            return fail("ocpp.call_timeout_s", "must be at least 1");
        }
        if self.handshake_timeout_s == 0 {
            return fail("ocpp.handshake_timeout_s", "must be at least 1");
        }
        if self.idle_timeout_s <= self.ping_interval_s {
            return fail("ocpp.idle_timeout_s", "must be longer than ocpp.ping_interval_s");
        }
        if self.max_message_size < 1024 {
            return fail("ocpp.max_message_size", "must be at least 1024 bytes");
        }
        if self.max_write_buffer_size <= self.write_buffer_size.saturating_add(self.max_message_size) {
            return fail(
                "ocpp.max_write_buffer_size",
                "must exceed ocpp.write_buffer_size + ocpp.max_message_size",
            );
        }
        if self.rate_limit_per_s > 0 && self.rate_limit_burst == 0 {
            return fail(
                "ocpp.rate_limit_burst",
                "must be at least 1 when ocpp.rate_limit_per_s is set",
            );
        }
        if self.write_timeout_s == 0 {
            return fail("ocpp.write_timeout_s", "must be at least 1");
        }
        if self.max_connections == 0 || self.max_handshakes == 0 {
            return fail(
                "ocpp.max_connections",
                "connection and handshake caps must be at least 1",
            );
        }
        if !(64..=1024 * 1024).contains(&self.charger_password_memory_kib) {
            return fail("ocpp.charger_password_memory_kib", "must be 64 to 1048576");
        }
        if self.password_max_age_days == Some(0) {
            return fail(
                "ocpp.password_max_age_days",
                "must be at least 1 (leave it unset for no rotation)",
            );
        }
        Ok(())
    }
}

impl AccountsConfig {
    /// Password, invitation and login-throttle settings.
    fn validate(&self) -> Result<(), ConfigError> {
        if !(8..=128).contains(&self.password_min_length) {
            return fail("accounts.password_min_length", "must be 8 to 128");
        }
        self.argon2_params()?;
        if self.invitation_ttl_s == 0 {
            return fail("accounts.invitation_ttl_s", "must be at least 1");
        }
        if self.login_window_s == 0 || self.login_failures_per_user == 0 || self.login_failures_per_address == 0 {
            return fail(
                "accounts.login_window_s",
                "window and failure limits must be at least 1",
            );
        }
        Ok(())
    }
}

impl ClusterConfig {
    /// Node naming, leases and the shared secret.
    fn validate(&self) -> Result<(), ConfigError> {
        let name_ok = |s: &str| {
            !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if self.node_id.as_deref().is_some_and(|n| !name_ok(n)) {
            return fail("cluster.node_id", "must be 1 to 64 letters, digits, '-' or '_'");
        }
        if !name_ok(&self.prefix) {
            return fail("cluster.prefix", "must be 1 to 64 letters, digits, '-' or '_'");
        }
        if self.lease_s < 3 {
            return fail("cluster.lease_s", "must be at least 3");
        }
        if self.nats_url.as_deref().is_some_and(|u| u.trim().is_empty()) {
            return fail("cluster.nats_url", "must not be empty (leave it out for a single node)");
        }
        if self.nats_url.is_some() && self.secret.as_ref().is_none_or(|s| s.expose().len() < 32) {
            return fail(
                "cluster.secret",
                "must be set, the same on every node, at least 32 characters, when cluster.nats_url is",
            );
        }
        Ok(())
    }
}

impl SmtpConfig {
    /// The mail relay's settings.
    fn validate(&self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return fail("smtp.host", "must not be empty");
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return fail("smtp.from", "must be an address like `voltgate <noreply@example.com>`");
        }
        if self.password.is_some() && self.username.is_none() {
            return fail("smtp.username", "is required with smtp.password");
        }
        Ok(())
    }
}

/// A URL (database, NATS) without its password, for messages and logs.
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

#[cfg(test)]
mod tests {
    use super::*;
    use figment::Jail;

    #[allow(clippy::result_large_err)] // figment's Jail API returns its own error type
    fn load_in_jail(toml: &str, env: &[(&str, &str)]) -> Result<Config, String> {
        let mut out = Err(String::new());
        Jail::expect_with(|jail| {
            jail.create_file("voltgate.toml", toml)?;
            for (k, v) in env {
                jail.set_env(k, v);
            }
            out = Config::load(Some(Path::new("voltgate.toml"))).map_err(|e| e.to_string());
            Ok(())
        });
        out
    }

    #[test]
    fn shipped_default_file_matches_builtin_defaults() {
        let text = include_str!("../config/default.toml");
        let from_file: Config = Figment::from(Toml::string(text))
            .extract()
            .expect("default.toml parses");
        let builtin = Config::default();
        assert_eq!(
            serde_json::to_value(&from_file.ocpp).ok(),
            serde_json::to_value(&builtin.ocpp).ok()
        );
        assert_eq!(from_file.database.url, builtin.database.url);
        assert_eq!(from_file.api.listen, builtin.api.listen);
    }

    #[test]
    fn env_overrides_file() {
        let c = load_in_jail(
            "[ocpp]\nheartbeat_interval_s = 60\n",
            &[
                ("VOLTGATE__OCPP__HEARTBEAT_INTERVAL_S", "42"),
                ("VOLTGATE__DATABASE__URL", "sqlite://x.db"),
            ],
        )
        .expect("loads");
        assert_eq!(c.ocpp.heartbeat_interval_s, 42);
        assert_eq!(c.database.url, "sqlite://x.db");
    }

    #[test]
    fn numeric_looking_secret_from_env_is_a_string() {
        let c = load_in_jail("", &[("VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD", "007123")]).expect("loads");
        assert_eq!(c.bootstrap.admin_password.as_ref().map(Secret::expose), Some("007123"));
        assert!(!format!("{c:?}").contains("007123"));
    }

    #[test]
    fn unknown_key_names_the_key() {
        let err = load_in_jail("[ocpp]\nheartbeat_intervl_s = 5\n", &[]).unwrap_err();
        assert!(err.contains("heartbeat_intervl_s"), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }

    #[test]
    fn bad_value_names_the_key() {
        let err = load_in_jail("[ocpp]\nunknown_chargers = \"maybe\"\n", &[]).unwrap_err();
        assert!(err.contains("ocpp.unknown_chargers"), "{err}");
        let err = load_in_jail("", &[("VOLTGATE__OCPP__LISTEN", "not-an-address")]).unwrap_err();
        assert!(err.to_lowercase().contains("ocpp.listen"), "{err}");
    }

    #[test]
    fn semantic_rules_name_the_key() {
        let err = load_in_jail("[ocpp]\nsecurity_profile = 7\n", &[]).unwrap_err();
        assert!(err.contains("ocpp.security_profile"), "{err}");
        let err = load_in_jail("[ocpp]\nidle_timeout_s = 10\nping_interval_s = 20\n", &[]).unwrap_err();
        assert!(err.contains("ocpp.idle_timeout_s"), "{err}");
        let err = load_in_jail("[accounts]\nargon2_memory_kib = 1\n", &[]).unwrap_err();
        assert!(err.contains("accounts.argon2_memory_kib"), "{err}");
        let err = load_in_jail("[smtp]\nhost = \"mail\"\nfrom = \"not an address\"\n", &[]).unwrap_err();
        assert!(err.contains("smtp.from"), "{err}");
        let err = load_in_jail("[cluster]\nnode_id = \"a b\"\n", &[]).unwrap_err();
        assert!(err.contains("cluster.node_id"), "{err}");
        let err = load_in_jail("[cluster]\nlease_s = 1\n", &[]).unwrap_err();
        assert!(err.contains("cluster.lease_s"), "{err}");
        let err = load_in_jail("[smtp]\nfrom = \"a <a@b.c>\"\n", &[]).unwrap_err();
        assert!(err.contains("host"), "{err}");
    }

    #[test]
    fn smtp_section_from_the_environment_with_a_raw_password() {
        let env = [
            ("VOLTGATE__SMTP__HOST", "mail.example.com"),
            ("VOLTGATE__SMTP__FROM", "voltgate <noreply@example.com>"),
            ("VOLTGATE__SMTP__USERNAME", "cs"),
            ("VOLTGATE__SMTP__PASSWORD", "0042"),
        ];
        let config = load_in_jail("", &env).unwrap();
        let smtp = config.smtp.expect("smtp section");
        assert_eq!(smtp.port, 587);
        assert_eq!(smtp.password.as_ref().map(Secret::expose), Some("0042"));
    }
}
