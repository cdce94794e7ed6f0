//! Security profiles 2 and 3 and HTTPS over real TLS sockets, with a CA and certificates made
//! in the test (rcgen): the right certificate is accepted; a wrong CA, a wrong CN or no
//! certificate is refused; a profile-2/3 charger is refused on plain ws://; SIGHUP-style
//! reload serves a new certificate while a live connection keeps working, and a real SIGHUP to
//! the running binary does the same.

mod common;

use common::TestServer;
use common::tls::{Ca, boot, connector, tls, write, wss};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use voltgate::config::TlsConfig;

const PW: &str = "charger-password-1";

#[tokio::test]
async fn profiles_2_and_3_over_real_tls_and_https_for_the_api() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ca = Ca::new("voltgate test CA");
    let other_ca = Ca::new("someone else's CA");
    let server = ca.sign("localhost", &["localhost", "127.0.0.1"]);
    let files = TlsConfig {
        cert_file: write(dir.path(), "server.pem", &server.0),
        key_file: write(dir.path(), "server.key", &server.1),
        client_ca_file: Some(write(dir.path(), "clients-ca.pem", &ca.pem)),
    };
    let t = TestServer::start_with(|c| {
        c.ocpp.tls_listen = Some(([127, 0, 0, 1], 0).into());
        c.api.tls = true;
        c.tls = Some(files.clone());
    })
    .await;
    let wss_addr = t.server().ocpp_tls_addr.expect("wss listener");

    // The API over HTTPS (reqwest here has no TLS; speak HTTP/1.1 over the TLS stream).
    let anon = connector(&ca.pem, None);
    let mut https = tls(t.server().api_addr, &anon).await.expect("HTTPS handshake");
    https
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .expect("request");
    let mut answer = String::new();
    https.read_to_string(&mut answer).await.ok();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Register through the store (the API is HTTPS-only here): a profile-2 and a profile-3 charger.
    let state = &t.server().state;
    let root = state.store.find_organisation("1").await.expect("root");
    let admin = voltgate::access::Principal::system(&root);
    for (id, profile) in [("CP-2", 2u8), ("CP-3", 3u8)] {
        let input = voltgate::services::chargers::NewCharger {
            id: voltgate::ocpp::ChargerId::parse(id).expect("a valid charger id"),
            organisation_id: root.id,
            site_id: None,
            password: Some(PW.into()),
            security_profile: Some(profile),
            local_list: None,
        };
        voltgate::services::chargers::create(state, &admin, input)
            .await
            .expect("register");
    }

    // Profile 2: TLS + Basic auth. Right password in; wrong password and plain ws:// out.
    let mut cp2 = wss(wss_addr, &anon, "CP-2", Some(PW)).await.expect("CP-2 over wss");
    assert_eq!(boot(&mut cp2).await[2]["status"], json!("Accepted"));
    assert_eq!(
        wss(wss_addr, &anon, "CP-2", Some("wrong-password-123")).await.err(),
        Some("401".into())
    );
    let plain = common::TestCharger::connect(&t.ocpp_base(), "CP-2", "1.6", Some(PW)).await;
    assert_eq!(common::refusal_status(plain), 401, "profile 2 refused on plain ws://");

    // Profile 3: the client certificate is the credential; its CN must be the charger's id.
    let right = ca.sign("CP-3", &[]);
    let mut cp3 = wss(wss_addr, &connector(&ca.pem, Some(&right)), "CP-3", None)
        .await
        .expect("CP-3 with its certificate");
    assert_eq!(boot(&mut cp3).await[2]["status"], json!("Accepted"));
    let wrong_cn = ca.sign("CP-2", &[]);
    assert_eq!(
        wss(wss_addr, &connector(&ca.pem, Some(&wrong_cn)), "CP-3", None)
            .await
            .err(),
        Some("401".into()),
        "another charger's certificate"
    );
    assert_eq!(
        wss(wss_addr, &anon, "CP-3", Some(PW)).await.err(),
        Some("401".into()),
        "no certificate, even with the password"
    );
    let foreign = other_ca.sign("CP-3", &[]);
    let refused = wss(wss_addr, &connector(&ca.pem, Some(&foreign)), "CP-3", None).await;
    assert!(refused.is_err(), "a certificate from another CA never gets through");
    assert_ne!(refused.err(), Some("101".into()));
    let plain = common::TestCharger::connect(&t.ocpp_base(), "CP-3", "1.6", Some(PW)).await;
    assert_eq!(common::refusal_status(plain), 401, "profile 3 refused on plain ws://");

    // Reload: a new server certificate from another CA; new handshakes see it, the live
    // profile-3 connection keeps going.
    let renewed_ca = Ca::new("renewed CA");
    let renewed = renewed_ca.sign("localhost", &["localhost", "127.0.0.1"]);
    std::fs::write(&files.cert_file, &renewed.0).expect("write cert");
    std::fs::write(&files.key_file, &renewed.1).expect("write key");
    t.server().reload_tls().expect("reload");
    assert!(tls(wss_addr, &anon).await.is_err(), "the old CA no longer matches");
    let mut again = wss(wss_addr, &connector(&renewed_ca.pem, None), "CP-2", Some(PW))
        .await
        .expect("new certificate served");
    assert_eq!(boot(&mut again).await[2]["status"], json!("Accepted"));
    cp3.send(Message::text(json!([2, "h1", "Heartbeat", {}]).to_string()))
        .await
        .expect("heartbeat on the old session");
    let answer = loop {
        match cp3.next().await.expect("answer").expect("frame") {
            Message::Text(t) => break serde_json::from_str::<Value>(t.as_str()).expect("json"),
            _ => continue,
        }
    };
    assert_eq!(answer[1], json!("h1"), "{answer}");
    assert!(answer[2]["currentTime"].is_string(), "{answer}");

    // A broken file on reload keeps the current certificate.
    std::fs::write(&files.key_file, "not a key").expect("write");
    assert!(t.server().reload_tls().is_err());
    assert!(tls(wss_addr, &connector(&renewed_ca.pem, None)).await.is_ok());
}

/// The real binary, killed when the test ends however it ends.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_real_sighup_makes_the_running_binary_serve_the_renewed_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (old_ca, new_ca) = (Ca::new("old CA"), Ca::new("new CA"));
    let first = old_ca.sign("localhost", &["localhost", "127.0.0.1"]);
    let cert = write(dir.path(), "server.pem", &first.0);
    let key = write(dir.path(), "server.key", &first.1);
    let free = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
    };
    let (ocpp, wss_addr, api) = (free(), free(), free());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_voltgate"))
        .arg("serve")
        .current_dir(dir.path())
        .env(
            "VOLTGATE__DATABASE__URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display()),
        )
        .env("VOLTGATE__OCPP__LISTEN", ocpp.to_string())
        .env("VOLTGATE__OCPP__TLS_LISTEN", wss_addr.to_string())
        .env("VOLTGATE__API__LISTEN", api.to_string())
        .env("VOLTGATE__TLS__CERT_FILE", &cert)
        .env("VOLTGATE__TLS__KEY_FILE", &key)
        .env("VOLTGATE__BOOTSTRAP__ADMIN_PASSWORD", "sighup-test-password")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start voltgate");
    let process = Process(child);
    let (old, new) = (connector(&old_ca.pem, None), connector(&new_ca.pem, None));
    let mut up = false;
    for _ in 0..200 {
        if tls(wss_addr, &old).await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(up, "the binary serves the first certificate");

    let renewed = new_ca.sign("localhost", &["localhost", "127.0.0.1"]);
    std::fs::write(&cert, &renewed.0).expect("write cert");
    std::fs::write(&key, &renewed.1).expect("write key");
    let status = std::process::Command::new("kill")
        .args(["-HUP", &process.0.id().to_string()])
        .status()
        .expect("kill -HUP");
    assert!(status.success());
    let mut renewed_served = false;
    for _ in 0..200 {
        if tls(wss_addr, &new).await.is_ok() {
            renewed_served = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(renewed_served, "after SIGHUP the renewed certificate is served");
    assert!(tls(wss_addr, &old).await.is_err(), "and the old one no longer");
}
