//! The OCPP-J WebSocket server: handshake (subprotocol, charger authentication), one task per
//! connection, CSMS-initiated CALLs with correlation and timeouts, and the live-connection
//! [`Registry`] the rest of voltgate uses to reach chargers.

mod connection;
mod handshake;
mod registry;
mod stream;

pub use registry::{CallFailure, ConnectionInfo, Presence, Registry};

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::OcppConfig;
use crate::inspector::MessageLog;
use crate::metrics::{Metrics, VersionLabels};
use crate::ocpp::{ChargerId, OcppVersion};
use crate::station::{Refusal, Session, Station, Transport};
use crate::tls::Tls;
use handshake::HttpRefusal;
use stream::ChargerStream;

/// How long shutdown waits for connections to finish closing.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The OCPP endpoint; share it in an `Arc`.
#[derive(Debug)]
pub struct Gateway {
    config: OcppConfig,
    ws_config: WebSocketConfig,
    station: Station,
    registry: Registry,
    /// Handshakes in progress (`ocpp.max_handshakes`): TLS, upgrade and argon2 are the costly
    /// part of a connection, so a storm or an attacker queues here, not in memory.
    handshakes: Arc<tokio::sync::Semaphore>,
    /// Connections waiting for a handshake place.
    waiting: AtomicUsize,
    /// Where every exchange goes for the message inspector.
    log: MessageLog,
    metrics: Arc<Metrics>,
}

impl Gateway {
    /// A gateway answering chargers through `station`, logging exchanges to `log`, counting
    /// into `metrics`.
    pub fn new(config: OcppConfig, station: Station, log: MessageLog, metrics: Arc<Metrics>) -> Self {
        // Set every buffer explicitly: tungstenite's defaults reserve 128 KiB per socket and
        // let a peer that stops reading grow the write buffer without bound.
        let ws_config = WebSocketConfig::default()
            .read_buffer_size(config.read_buffer_size)
            .write_buffer_size(config.write_buffer_size)
            .max_write_buffer_size(config.max_write_buffer_size)
            .max_message_size(Some(config.max_message_size))
            .max_frame_size(Some(config.max_message_size));
        Self {
            registry: Registry::new(config.call_timeout(), station.live().clone()),
            handshakes: Arc::new(tokio::sync::Semaphore::new(config.max_handshakes)),
            waiting: AtomicUsize::new(0),
            log,
            metrics,
            config,
            ws_config,
            station,
        }
    }

    /// The live connections of this node.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The station behind the connections (for the jobs it hands up, such as CSRs to sign).
    pub fn station(&self) -> &Station {
        &self.station
    }

    /// Accepts connections on `listener` (`wss://` when `tls` is given) until `shutdown` fires,
    /// then closes every connection with 1001 and waits (bounded) for them to finish.
    pub async fn run(self: Arc<Self>, listener: TcpListener, tls: Option<Arc<Tls>>, shutdown: CancellationToken) {
        let tracker = TaskTracker::new();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let gateway = Arc::clone(&self);
                        let shutdown = shutdown.clone();
                        let tls = tls.clone();
                        tracker.spawn(async move { gateway.serve(stream, peer, tls, shutdown).await });
                    }
                    Err(e) => {
                        // Usually EMFILE: back off instead of spinning.
                        tracing::error!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
            }
        }
        drop(listener);
        tracker.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, tracker.wait()).await.is_err() {
            tracing::warn!(
                remaining = tracker.len(),
                "connections still open after the shutdown grace period"
            );
        }
    }

    /// The TLS handshake, when the listener is `wss://`; the client certificate's CN if any.
    async fn secure(&self, tcp: TcpStream, tls: Option<Arc<Tls>>) -> Option<(ChargerStream, Transport)> {
        let Some(acceptor) = tls.and_then(|t| t.ocpp_acceptor()) else {
            return Some((ChargerStream::Plain(tcp), Transport::default()));
        };
        let stream = acceptor.accept(tcp).await.ok()?;
        let client_cn = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .and_then(crate::tls::common_name);
        let transport = Transport { tls: true, client_cn };
        Some((ChargerStream::Tls(Box::new(stream)), transport))
    }

    async fn serve(&self, tcp: TcpStream, peer: SocketAddr, tls: Option<Arc<Tls>>, shutdown: CancellationToken) {
        let _ = tcp.set_nodelay(true);
        let permit = match self.handshake_permit().await {
            Ok(permit) => permit,
            Err(reason) => {
                self.metrics.refused("over_capacity");
                // A plain connection hears 503 at once; a TLS one is closed, as answering
                // would first cost the handshake the cap is there to bound.
                if tls.is_none() {
                    let refusal = HttpRefusal::new(503, format!("{reason}; try again later"));
                    handshake::refuse(ChargerStream::Plain(tcp), &refusal, peer).await;
                } else {
                    tracing::warn!(%peer, reason, "TLS connection refused");
                }
                return;
            }
        };
        // Boxed, as the station's handling is: what the handshake and admission need is then
        // freed once the charger is in, instead of sizing every connection's task for life.
        let Some((ws, charger_id, version)) = Box::pin(self.upgrade(tcp, peer, tls)).await else {
            return;
        };
        drop(permit);
        let registration = self.registry.register(&charger_id, version);
        let session_id = registration.session;
        let connection = connection::Connection::new(self, ws, Session::new(charger_id, version), registration.line);
        self.run_session(connection, session_id, peer, shutdown).await;
    }

    /// A place among the handshakes in progress, waiting for one for up to
    /// `ocpp.handshake_timeout_s`, or why there is none. A storm (every charger reconnecting
    /// after a restart or a network cut) queues here instead of being refused: many chargers
    /// back off for minutes after a refusal. Waiting costs a socket and a small task, so only
    /// `ocpp.max_connections` (open, in handshake and waiting together) refuses at once.
    async fn handshake_permit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, &'static str> {
        let in_handshake = self.config.max_handshakes - self.handshakes.available_permits();
        if self.registry.len() + in_handshake + self.waiting.load(Ordering::Relaxed) >= self.config.max_connections {
            return Err("connection limit reached");
        }
        let _waiting = Waiting::enter(&self.waiting);
        let wait = Duration::from_secs(self.config.handshake_timeout_s);
        match tokio::time::timeout(wait, Arc::clone(&self.handshakes).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err("too many handshakes in progress"),
        }
    }

    /// TLS, the HTTP upgrade request, the charger's admission and the WebSocket accept, each
    /// refused the way its failure deserves.
    async fn upgrade(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
        tls: Option<Arc<Tls>>,
    ) -> Option<(WebSocketStream<ChargerStream>, ChargerId, OcppVersion)> {
        let handshake_timeout = Duration::from_secs(self.config.handshake_timeout_s);
        let (mut stream, transport) = match tokio::time::timeout(handshake_timeout, self.secure(tcp, tls)).await {
            Ok(Some(secured)) => secured,
            // A failed TLS handshake (wrong CA, garbage, plain HTTP on the TLS port).
            Ok(None) => {
                self.metrics.refused("tls_failed");
                tracing::warn!(%peer, "TLS handshake failed");
                return None;
            }
            Err(_) => {
                self.metrics.refused("timeout");
                tracing::warn!(%peer, "TLS handshake timed out");
                return None;
            }
        };
        let request = match tokio::time::timeout(handshake_timeout, handshake::read_request(&mut stream)).await {
            Ok(Ok(request)) => request,
            Ok(Err(Some(refusal))) => {
                self.metrics.refused("bad_request");
                handshake::refuse(stream, &refusal, peer).await;
                return None;
            }
            Ok(Err(None)) => return None,
            Err(_) => {
                self.metrics.refused("timeout");
                tracing::warn!(%peer, "handshake timed out");
                return None;
            }
        };
        let charger_id = request.charger_id.clone();
        let version = request.version;
        if let Err(refusal) = self
            .station
            .admit(&charger_id, request.credentials.clone(), &transport)
            .await
        {
            let mut http = http_refusal(&refusal);
            self.metrics.refused(match http.status {
                401 => "unauthorized",
                404 => "unknown_charger",
                400 => "bad_request",
                _ => "unavailable",
            });
            http.detail = Some(format!("charger {charger_id}: {refusal}"));
            handshake::refuse(stream, &http, peer).await;
            return None;
        }
        match handshake::accept(stream, request, self.ws_config).await {
            Ok(ws) => Some((ws, charger_id, version)),
            Err(e) => {
                tracing::warn!(%peer, charger = %charger_id, error = %e, "upgrade failed");
                None
            }
        }
    }

    /// The charger's session, registered (as `session_id`) for its lifetime.
    async fn run_session(
        &self,
        connection: Box<connection::Connection<'_>>,
        session_id: u64,
        peer: SocketAddr,
        shutdown: CancellationToken,
    ) {
        let charger_id = connection.session().charger_id.clone();
        let version = connection.session().version;
        tracing::info!(charger = %charger_id, %version, %peer, "charger connected");
        // A clone of the gauge (it is shared), not the family's read guard across awaits.
        let gauge = self
            .metrics
            .connected
            .get_or_create(&VersionLabels {
                version: version.as_str(),
            })
            .clone();
        gauge.inc();
        let ended = connection.run(shutdown).await;
        gauge.dec();
        self.registry.unregister(&charger_id, session_id);
        tracing::info!(charger = %charger_id, reason = %ended, "charger disconnected");
    }
}

/// The HTTP answer for a refused admission; credentials problems all look alike.
fn http_refusal(refusal: &Refusal) -> HttpRefusal {
    match refusal {
        r if r.is_authentication() => HttpRefusal::new(401, "authentication required"),
        Refusal::UnknownCharger => HttpRefusal::new(404, "unknown charge point"),
        _ => HttpRefusal::new(503, "try again later"),
    }
}

/// One connection counted among those waiting for a handshake place, until dropped (also
/// when its task ends mid-wait).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DatabaseConfig;
    use crate::crypto::PasswordHasher;
    use crate::store::Store;

    /// Each connection's task holds its future for the connection's life, laid out for the
    /// largest state it can reach: the handshake, the admission, the station's handling of a
    /// message and the close are boxed so an idle connection does not carry them, the
    /// connection itself is on the heap (an async fn would hold it twice) and one timer
    /// serves all its deadlines. In a debug build the task took 8,432 bytes with nothing
    /// boxed, then 3,232, now 1,160 (plus the connection's 600 on the heap).
    #[tokio::test]
    async fn a_connection_task_stays_small() {
        let database = DatabaseConfig {
            url: "sqlite::memory:".into(),
            ..DatabaseConfig::default()
        };
        let store = Store::connect(&database).await.expect("an in-memory SQLite");
        let ocpp = OcppConfig::default();
        let station = Station::new(store.clone(), &ocpp, PasswordHasher::new(1), None);
        let metrics = Arc::new(Metrics::new(store.write_stats()));
        let gateway = Gateway::new(ocpp, station, MessageLog::disabled(), metrics);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
        let (tcp, peer) = listener.accept().await.unwrap();
        let task = gateway.serve(tcp, peer, None, CancellationToken::new());
        let size = std::mem::size_of_val(&task);
        assert!(size <= 1536, "a connection's task takes {size} bytes");
    }
}
