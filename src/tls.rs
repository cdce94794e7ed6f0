//! TLS for the charger endpoint (security profiles 2 and 3) and the HTTP API, with rustls.
//! Certificates and keys come from PEM files named in `[tls]`; [`Tls::reload`] (on SIGHUP)
//! swaps them for new handshakes while established connections keep their sessions.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio_rustls::TlsAcceptor;

use crate::config::TlsConfig;

/// Why a TLS configuration could not be loaded; names the key of the file at fault.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{key} ({path}): {detail}")]
    File {
        key: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("tls: {0}")]
    Config(String),
}

/// The current server configurations, replaced as a whole on reload.
#[derive(Debug)]
pub struct Tls {
    files: TlsConfig,
    /// voltgate's own CA for chargers (`[ca]`), trusted beside `tls.client_ca_file`.
    charger_ca: Option<PathBuf>,
    /// For chargers: asks for a client certificate (profile 3) without requiring one.
    ocpp: RwLock<Arc<rustls::ServerConfig>>,
    /// For the HTTP API: no client certificates, ALPN http/1.1.
    api: RwLock<Arc<rustls::ServerConfig>>,
}

impl Tls {
    /// Loads the files named in `[tls]`, trusting `charger_ca` (`ca.cert_file`) for client
    /// certificates too.
    pub fn load(files: &TlsConfig, charger_ca: Option<&Path>) -> Result<Self, TlsError> {
        let charger_ca = charger_ca.map(Path::to_owned);
        let (ocpp, api) = build(files, charger_ca.as_deref())?;
        Ok(Self {
            files: files.clone(),
            charger_ca,
            ocpp: RwLock::new(ocpp),
            api: RwLock::new(api),
        })
    }

    /// Reads the files again; on any error the current configuration stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let (ocpp, api) = build(&self.files, self.charger_ca.as_deref())?;
        if let (Ok(mut o), Ok(mut a)) = (self.ocpp.write(), self.api.write()) {
            *o = ocpp;
            *a = api;
        }
        Ok(())
    }

    /// An acceptor with the current charger-side configuration.
    pub fn ocpp_acceptor(&self) -> Option<TlsAcceptor> {
        self.ocpp.read().ok().map(|c| TlsAcceptor::from(Arc::clone(&c)))
    }

    /// An acceptor with the current API-side configuration.
    pub fn api_acceptor(&self) -> Option<TlsAcceptor> {
        self.api.read().ok().map(|c| TlsAcceptor::from(Arc::clone(&c)))
    }
}

fn file_error(key: &'static str, path: &Path, detail: impl ToString) -> TlsError {
    TlsError::File {
        key,
        path: path.to_owned(),
        detail: detail.to_string(),
    }
}

fn certificates(key: &'static str, path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| file_error(key, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(key, path, e))?;
    if certs.is_empty() {
        return Err(file_error(key, path, "no PEM certificate in the file"));
    }
    Ok(certs)
}

fn build(
    files: &TlsConfig,
    charger_ca: Option<&Path>,
) -> Result<(Arc<rustls::ServerConfig>, Arc<rustls::ServerConfig>), TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates("tls.cert_file", &files.cert_file)?;
    let key =
        PrivateKeyDer::from_pem_file(&files.key_file).map_err(|e| file_error("tls.key_file", &files.key_file, e))?;
    let builder = || {
        rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config(e.to_string()))
    };

    let client_cas = [
        files.client_ca_file.as_deref().map(|p| ("tls.client_ca_file", p)),
        charger_ca.map(|p| ("ca.cert_file", p)),
    ];
    let mut roots = RootCertStore::empty();
    for (key, path) in client_cas.into_iter().flatten() {
        for ca in certificates(key, path)? {
            roots.add(ca).map_err(|e| file_error(key, path, e))?;
        }
    }
    let ocpp = if roots.is_empty() {
        builder()?.with_no_client_auth()
    } else {
        // Optional at the TLS layer: profile-2 chargers share the listener and have no
        // certificate; the handshake then insists on one for profile-3 chargers.
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
            .allow_unauthenticated()
            .build()
            .map_err(|e| TlsError::Config(e.to_string()))?;
        builder()?.with_client_cert_verifier(verifier)
    }
    .with_single_cert(chain.clone(), key.clone_key())
    .map_err(|e| file_error("tls.key_file", &files.key_file, e))?;

    let mut api = builder()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| file_error("tls.key_file", &files.key_file, e))?;
    api.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(ocpp), Arc::new(api)))
}

/// The subject common name of a verified client certificate (the charge point id, under
/// profile 3).
pub fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let cn = parsed.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_owned)
}

/// A listener for `axum::serve` that speaks HTTPS: TCP accepts stay on the accept loop, TLS
/// handshakes run in their own tasks (bounded by a timeout), so one slow client cannot hold
/// up the others.
#[derive(Debug)]
pub struct TlsListener {
    tcp: tokio::net::TcpListener,
    tls: Arc<Tls>,
    ready_tx: tokio::sync::mpsc::Sender<(
        tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        std::net::SocketAddr,
    )>,
    ready: tokio::sync::mpsc::Receiver<(
        tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
        std::net::SocketAddr,
    )>,
}

/// How long a client has to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

impl TlsListener {
    /// HTTPS on `tcp` with the API certificate of `tls` (current at each handshake).
    pub fn new(tcp: tokio::net::TcpListener, tls: Arc<Tls>) -> Self {
        let (ready_tx, ready) = tokio::sync::mpsc::channel(64);
        Self {
            tcp,
            tls,
            ready_tx,
            ready,
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                Some(done) = self.ready.recv() => return done,
                accepted = self.tcp.accept() => match accepted {
                    Ok((tcp, addr)) => {
                        let Some(acceptor) = self.tls.api_acceptor() else { continue };
                        let ready = self.ready_tx.clone();
                        tokio::spawn(async move {
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                                Ok(Ok(stream)) => {
                                    let _ = ready.send((stream, addr)).await;
                                }
                                Ok(Err(e)) => tracing::debug!(%addr, error = %e, "HTTPS handshake failed"),
                                Err(_) => tracing::debug!(%addr, "HTTPS handshake timed out"),
                            }
                        });
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "API accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                },
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
