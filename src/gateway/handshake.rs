//! The WebSocket opening handshake, done by hand so that charger authentication (a database
//! lookup and an argon2 check) can run asynchronously *before* anything is upgraded: a refused
//! charger gets a plain HTTP answer (400/401/404/503) and never a WebSocket.

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use percent_encoding::percent_decode_str;

use crate::ocpp::ChargerId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::stream::ChargerStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

use crate::ocpp::OcppVersion;
use crate::station::Credentials;

/// Upper bound on the request head; real chargers send well under 1 KiB.
const MAX_HEAD: usize = 8 * 1024;
const MAX_HEADERS: usize = 32;
/// The only path prefix voltgate serves: `/ocpp/{chargePointId}`.
const PATH_PREFIX: &str = "/ocpp/";

/// A parsed, well-formed upgrade request, not yet authorised.
#[derive(Debug)]
pub(crate) struct UpgradeRequest {
    pub charger_id: ChargerId,
    pub version: OcppVersion,
    pub credentials: Option<Credentials>,
    key: String,
    /// Bytes the charger sent after the head (the start of its first frame, if any).
    leftover: Vec<u8>,
}

/// An HTTP refusal: status, a reason for the body and the log, and details for the log only.
#[derive(Debug)]
pub(crate) struct HttpRefusal {
    pub status: u16,
    pub reason: String,
    pub detail: Option<String>,
}

impl HttpRefusal {
    pub(crate) fn new(status: u16, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
            detail: None,
        }
    }
}

/// Reads and checks the request head. `Err(None)` means the peer went away mid-request.
pub(crate) async fn read_request(stream: &mut ChargerStream) -> Result<UpgradeRequest, Option<HttpRefusal>> {
    let mut buf = Vec::with_capacity(1024);
    let head_len = loop {
        let mut chunk = [0u8; 1024];
        let n = stream.read(&mut chunk).await.map_err(|_| None)?;
        if n == 0 {
            return Err(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(Some(HttpRefusal::new(431, "request head too large")));
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(&buf[..head_len]) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return Err(Some(HttpRefusal::new(400, "malformed HTTP request"))),
    }
    if req.method != Some("GET") {
        return Err(Some(HttpRefusal::new(405, "only GET upgrades are served")));
    }
    let path = req.path.unwrap_or_default();
    let charger_id =
        charger_id_from_path(path).ok_or_else(|| Some(HttpRefusal::new(404, "path is not /ocpp/{chargePointId}")))?;
    let charger_id = ChargerId::parse(charger_id).map_err(|e| {
        let mut refusal = HttpRefusal::new(400, "invalid charge point id");
        refusal.detail = Some(e.to_string());
        Some(refusal)
    })?;

    let header = |name: &'static str| {
        req.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .filter_map(|h| std::str::from_utf8(h.value).ok())
    };
    let has_token = |name: &'static str, token: &str| {
        header(name).any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
    };
    if !has_token("Upgrade", "websocket") || !has_token("Connection", "upgrade") {
        return Err(Some(HttpRefusal::new(400, "not a WebSocket upgrade request")));
    }
    if !header("Sec-WebSocket-Version").any(|v| v.trim() == "13") {
        return Err(Some(HttpRefusal::new(400, "unsupported Sec-WebSocket-Version")));
    }
    let key = header("Sec-WebSocket-Key")
        .next()
        .map(|k| k.trim().to_owned())
        .ok_or_else(|| Some(HttpRefusal::new(400, "missing Sec-WebSocket-Key")))?;
    let version = OcppVersion::negotiate(header("Sec-WebSocket-Protocol")).ok_or_else(|| {
        Some(HttpRefusal::new(
            400,
            "no supported OCPP subprotocol offered (ocpp1.6, ocpp2.0.1)",
        ))
    })?;
    let credentials = header("Authorization").next().and_then(parse_basic);

    Ok(UpgradeRequest {
        charger_id,
        version,
        credentials,
        key,
        leftover: buf[head_len..].to_vec(),
    })
}

/// Answers 101 and turns the stream into a WebSocket.
pub(crate) async fn accept(
    mut stream: ChargerStream,
    request: UpgradeRequest,
    config: tokio_tungstenite::tungstenite::protocol::WebSocketConfig,
) -> std::io::Result<tokio_tungstenite::WebSocketStream<ChargerStream>> {
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {}\r\n\r\n",
        derive_accept_key(request.key.as_bytes()),
        request.version.subprotocol(),
    );
    stream.write_all(response.as_bytes()).await?;
    Ok(tokio_tungstenite::WebSocketStream::from_partially_read(
        stream,
        request.leftover,
        tokio_tungstenite::tungstenite::protocol::Role::Server,
        Some(config),
    )
    .await)
}

/// Writes an HTTP error answer and closes the stream.
pub(crate) async fn refuse(mut stream: ChargerStream, refusal: &HttpRefusal, peer: SocketAddr) {
    let status_text = match refusal.status {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let challenge = match refusal.status {
        401 => "WWW-Authenticate: Basic realm=\"voltgate\", charset=\"UTF-8\"\r\n",
        503 => "Retry-After: 10\r\n",
        _ => "",
    };
    let body = format!("{}\n", refusal.reason);
    let response = format!(
        "HTTP/1.1 {} {status_text}\r\n{challenge}Content-Type: text/plain; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        refusal.status,
        body.len(),
    );
    if stream.write_all(response.as_bytes()).await.is_ok() {
        let _ = stream.shutdown().await;
    }
    let detail = refusal.detail.as_deref().unwrap_or_default();
    tracing::warn!(%peer, status = refusal.status, reason = %refusal.reason, detail, "handshake refused");
}

/// `/ocpp/{id}` (query ignored) to the percent-decoded id.
fn charger_id_from_path(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or_default();
    let raw = path.strip_prefix(PATH_PREFIX)?;
    if raw.is_empty() || raw.contains('/') {
        return None;
    }
    percent_decode_str(raw).decode_utf8().ok().map(|id| id.into_owned())
}

/// `Basic base64(user:password)`.
fn parse_basic(value: &str) -> Option<Credentials> {
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (username, password) = text.split_once(':')?;
    Some(Credentials {
        username: username.to_owned(),
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charger_ids_are_percent_decoded() {
        assert_eq!(charger_id_from_path("/ocpp/CP-1").as_deref(), Some("CP-1"));
        assert_eq!(charger_id_from_path("/ocpp/CP%201?x=1").as_deref(), Some("CP 1"));
        assert_eq!(charger_id_from_path("/ocpp/"), None);
        assert_eq!(charger_id_from_path("/ocpp/a/b"), None);
        assert_eq!(charger_id_from_path("/other/CP-1"), None);
    }

    #[test]
    fn basic_credentials() {
        let header = format!("Basic {}", STANDARD.encode("CP-1:s3cr:et"));
        let c = parse_basic(&header).unwrap();
        assert_eq!((c.username.as_str(), c.password.as_str()), ("CP-1", "s3cr:et"));
        assert!(parse_basic("Bearer abc").is_none());
        assert!(parse_basic("Basic !!!").is_none());
    }
}
