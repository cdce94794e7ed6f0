//! Shared test fixtures: a real server on ephemeral ports over a real database (a temp SQLite
//! file, or a fresh PostgreSQL database when `VOLTGATE_TEST_DATABASE_URL` is set), and a
//! minimal OCPP charger speaking over a real WebSocket.

#![allow(dead_code)]

pub mod console;
pub mod mail;
pub mod tls;
pub mod world;

use std::io::Write;
use std::sync::Once;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use voltgate::config::Config;
use voltgate::server::Server;

/// How long a test waits for any single frame before failing.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// A database for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    /// A fresh, empty database.
    pub async fn new() -> Self {
        match std::env::var("VOLTGATE_TEST_DATABASE_URL") {
            Ok(base) if !base.is_empty() => Self::postgres(&base).await,
            _ => {
                notice_once(
                    "VOLTGATE_TEST_DATABASE_URL not set: database tests run on SQLite only (PostgreSQL skipped)",
                );
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("voltgate.db").display());
                Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
        }
    }

    /// Another handle on an existing database (a second node); dropping it removes nothing.
    pub fn shared(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            _dir: None,
            postgres: None,
        }
    }

    async fn postgres(base: &str) -> Self {
        notice_once("database tests run on PostgreSQL (VOLTGATE_TEST_DATABASE_URL)");
        let (server, base_name) = base.rsplit_once('/').expect("postgres URL with a database name");
        let base_name = base_name.split('?').next().unwrap_or(base_name);
        let name = format!(
            "{base_name}_{}",
            voltgate::crypto::random_token(6)
                .to_lowercase()
                .replace(['-', '_'], "x")
        );
        let admin = Database::connect(base)
            .await
            .expect("connect to VOLTGATE_TEST_DATABASE_URL");
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create test database");
        admin.close().await.ok();
        Self {
            url: format!("{server}/{name}"),
            _dir: None,
            postgres: Some((base.to_owned(), name)),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside any runtime guarantee; use a private one on a plain thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = Database::connect(&admin_url).await.ok()?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

fn notice_once(text: &str) {
    static ONCE: Once = Once::new();
    // Written straight to stderr: libtest captures print!/eprint!, not this.
    ONCE.call_once(|| {
        let _ = writeln!(std::io::stderr(), "note: {text}");
    });
}

/// A running voltgate over its own database.
pub struct TestServer {
    pub server: Option<Server>,
    pub config: Config,
    pub db: TestDb,
}

impl TestServer {
    /// Starts with test defaults (security profile 1, unknown chargers rejected).
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts with test defaults adjusted by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        // `VOLTGATE_TEST_LOG=debug cargo test -- --nocapture` shows the server's logs.
        if let Ok(filter) = std::env::var("VOLTGATE_TEST_LOG") {
            voltgate::telemetry::init(&voltgate::config::LogConfig {
                format: voltgate::config::LogFormat::Text,
                filter,
            });
        }
        let db = TestDb::new().await;
        let mut config = Config::for_tests(&db.url);
        config.bootstrap.admin_password = Some(ADMIN_PASSWORD.into());
        tweak(&mut config);
        let server = Server::start(config.clone()).await.expect("server starts");
        Self {
            server: Some(server),
            config,
            db,
        }
    }

    /// A second node on this server's database, with its config adjusted by `tweak`.
    pub async fn join(&self, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = self.config.clone();
        tweak(&mut config);
        let server = Server::start(config.clone()).await.expect("second node starts");
        Self {
            server: Some(server),
            config,
            db: TestDb::shared(&self.db.url),
        }
    }

    pub fn server(&self) -> &Server {
        self.server.as_ref().expect("server running")
    }

    pub fn store(&self) -> &voltgate::store::Store {
        &self.server().state.store
    }

    /// `ws://127.0.0.1:PORT/ocpp`
    pub fn ocpp_base(&self) -> String {
        format!("ws://{}/ocpp", self.server().ocpp_addr)
    }

    /// Registers a charger in the root organisation with `password` (directly in the store,
    /// as the CLI does).
    pub async fn register(&self, id: &str, password: &str) {
        let state = &self.server().state;
        let root = self.store().find_organisation("1").await.expect("root organisation");
        let admin = voltgate::access::Principal::system(&root);
        let input = voltgate::services::chargers::NewCharger {
            id: voltgate::ocpp::ChargerId::parse(id).expect("a valid charger id"),
            organisation_id: root.id,
            site_id: None,
            password: Some(password.into()),
            security_profile: None,
            local_list: None,
        };
        voltgate::services::chargers::create(state, &admin, input)
            .await
            .expect("register charger");
    }

    /// Connects a charger registered with `password`.
    pub async fn charger(&self, id: &str, version: &str, password: &str) -> TestCharger {
        TestCharger::connect(&self.ocpp_base(), id, version, Some(password))
            .await
            .expect("charger connects")
    }

    /// Stops the server (1001 to every charger) and waits for it.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    /// Stops and starts again on the same database and config (new ports).
    pub async fn restart(&mut self) {
        self.stop().await;
        self.server = Some(Server::start(self.config.clone()).await.expect("server restarts"));
    }
}

/// A WebSocket upgrade request for `url` offering `subprotocols`, with HTTP Basic
/// `credentials` if given.
pub fn upgrade_request(
    url: &str,
    subprotocols: &str,
    credentials: Option<(&str, &str)>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    use base64::Engine;
    let mut request = url.into_client_request().expect("upgrade request");
    let headers = request.headers_mut();
    headers.insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(subprotocols).expect("header"),
    );
    if let Some((user, password)) = credentials {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.insert(
            "Authorization",
            HeaderValue::from_str(&format!("Basic {token}")).expect("header"),
        );
    }
    request
}

/// A bare-bones charge point for tests.
pub struct TestCharger {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

impl TestCharger {
    /// Opens `{base}/{id}` offering subprotocol `ocpp{version}`, with Basic auth if given.
    pub async fn connect(base: &str, id: &str, version: &str, password: Option<&str>) -> Result<Self, WsError> {
        Self::connect_with(base, id, &format!("ocpp{version}"), password.map(|p| (id, p))).await
    }

    /// Like [`connect`](Self::connect) with a raw subprotocol header and any credentials.
    pub async fn connect_with(
        base: &str,
        id: &str,
        subprotocols: &str,
        credentials: Option<(&str, &str)>,
    ) -> Result<Self, WsError> {
        let request = upgrade_request(&format!("{base}/{id}"), subprotocols, credentials);
        let (ws, _) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self { ws, next_id: 0 })
    }

    /// Sends a text frame as is.
    pub async fn send_raw(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).await.expect("send");
    }

    /// The next text frame as JSON, skipping control frames.
    pub async fn recv(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(FRAME_TIMEOUT, self.ws.next())
                .await
                .expect("a frame within the timeout")
                .expect("connection open")
                .expect("frame readable");
            match msg {
                Message::Text(t) => return serde_json::from_str(&t).expect("server sends JSON"),
                Message::Close(f) => panic!("connection closed: {f:?}"),
                _ => continue,
            }
        }
    }

    /// The next text frame as JSON, or `None` if none comes within `wait`.
    pub async fn recv_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(wait, self.ws.next()).await.ok()?;
            match msg.expect("connection open").expect("frame readable") {
                Message::Text(t) => return Some(serde_json::from_str(&t).expect("server sends JSON")),
                Message::Close(f) => panic!("connection closed: {f:?}"),
                _ => continue,
            }
        }
    }

    /// Sends a CALL and returns the whole answer frame.
    pub async fn call(&mut self, action: &str, payload: Value) -> Value {
        self.next_id += 1;
        let id = format!("t{}", self.next_id);
        self.send_raw(&json!([2, id, action, payload]).to_string()).await;
        let answer = self.recv().await;
        assert_eq!(answer[1], json!(id), "answer correlates with the CALL: {answer}");
        answer
    }

    /// Sends a CALL and returns the CALLRESULT payload, failing on a CALLERROR.
    pub async fn call_ok(&mut self, action: &str, payload: Value) -> Value {
        let answer = self.call(action, payload).await;
        assert_eq!(answer[0], json!(3), "{action} answered with a CALLRESULT: {answer}");
        answer[2].clone()
    }

    /// Waits for the server to close the connection; returns its close frame.
    pub async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            match tokio::time::timeout(FRAME_TIMEOUT, self.ws.next())
                .await
                .expect("closed within the timeout")
            {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }
}

/// The HTTP status of a refused WebSocket handshake; panics if it was not refused by HTTP.
pub fn refusal_status(result: Result<TestCharger, WsError>) -> u16 {
    match result {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected an HTTP refusal, got an upgraded connection"),
    }
}

/// A BootNotification payload for `version` (`1.6` or `2.0.1`).
pub fn boot_payload(version: &str) -> Value {
    match version {
        "1.6" => {
            json!({"chargePointVendor": "TestVendor", "chargePointModel": "TM-1", "chargePointSerialNumber": "SN-1", "firmwareVersion": "1.0.0"})
        }
        _ => {
            json!({"reason": "PowerUp", "chargingStation": {"vendorName": "TestVendor", "model": "TM-1", "serialNumber": "SN-1", "firmwareVersion": "1.0.0"}})
        }
    }
}

/// A StatusNotification payload for connector 1 (EVSE 1 in 2.0.1).
pub fn status_payload(version: &str, status: &str) -> Value {
    match version {
        "1.6" => {
            json!({"connectorId": 1, "errorCode": "NoError", "status": status, "timestamp": "2026-01-01T00:00:00Z"})
        }
        _ => {
            json!({"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": status, "evseId": 1, "connectorId": 1})
        }
    }
}

/// Password of the bootstrap `admin` in tests.
pub const ADMIN_PASSWORD: &str = "admin-test-password";

impl TestServer {
    /// `http://127.0.0.1:PORT/api/v1`
    pub fn api_base(&self) -> String {
        format!("http://{}/api/v1", self.server().api_addr)
    }

    /// An API client without a token.
    pub fn anonymous(&self) -> Api {
        Api {
            client: reqwest::Client::new(),
            base: self.api_base(),
            token: None,
        }
    }

    /// Logs in; panics unless the login succeeds.
    pub async fn login(&self, username: &str, password: &str) -> Api {
        let mut api = self.anonymous();
        let (status, body) = api
            .post("/login", json!({"username": username, "password": password}))
            .await;
        assert_eq!(status, 200, "login {username}: {body}");
        api.token = Some(body["token"].as_str().expect("token").to_owned());
        api
    }

    /// The bootstrap operator on the root organisation.
    pub async fn admin(&self) -> Api {
        self.login("admin", ADMIN_PASSWORD).await
    }
}

/// A JSON client for the HTTP API; every call returns `(status, body)` (body `null` if empty).
#[derive(Clone)]
pub struct Api {
    pub client: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Api {
    /// A POST that must create something (201); the new row's id.
    pub async fn create(&self, path: &str, body: Value) -> i64 {
        let (status, answer) = self.post(path, body.clone()).await;
        assert_eq!(status, 201, "POST {path} {body}: {answer}");
        answer["id"].as_i64().expect("an integer id")
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Sends a request with this client's token (if any).
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("HTTP request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, body)
    }

    /// Same client with another token.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: Some(token.to_owned()),
            ..self.clone()
        }
    }
}
