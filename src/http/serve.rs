//! Serving the API and the console with hyper directly rather than `axum::serve`, which sets
//! no timer and so no header read timeout: a client that never finishes its headers
//! (slowloris) would hold a connection and a task for ever. Here every connection must send a
//! request's headers within `api.header_timeout_s`, bodies are bounded by the router's request
//! timeout, a client that stops reading a response is cut off after `api.write_timeout_s`
//! (hyper has no write timeout: the socket is wrapped), and a shutdown lets requests in flight
//! finish (at most 10 s).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio_util::sync::CancellationToken;
use tower::{Service, ServiceExt};

use super::extract::ClientAddr;

/// How long requests in flight may take to finish after a shutdown.
const DRAIN: Duration = Duration::from_secs(10);

/// How long a connection may stall on either side.
#[derive(Debug, Clone, Copy)]
pub struct Stalls {
    /// Until a request's headers are in.
    pub headers: Duration,
    /// For one write to make progress.
    pub writes: Duration,
}

/// Serves `app` on `listener` until `shutdown`; each request carries its client's address
/// (`ConnectInfo<ClientAddr>`).
pub async fn serve<L, S>(mut listener: L, app: S, stalls: Stalls, shutdown: CancellationToken)
where
    L: axum::serve::Listener<Addr = SocketAddr>,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    let graceful = GracefulShutdown::new();
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.cancelled() => break,
        };
        let app = app.clone();
        let service = tower::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(ClientAddr(peer)));
            app.clone().oneshot(request.map(axum::body::Body::new))
        });
        let mut io = tokio_io_timeout::TimeoutStream::new(io);
        io.set_write_timeout(Some(stalls.writes));
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(stalls.headers)
            .serve_connection(TokioIo::new(Box::pin(io)), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(%peer, error = %e, "HTTP connection ended with an error");
            }
        });
    }
    if tokio::time::timeout(DRAIN, graceful.shutdown()).await.is_err() {
        tracing::warn!("HTTP requests still running after {DRAIN:?}; dropped");
    }
}
