//! Webhooks (issue 22) against a real receiver: deliveries are signed as documented, retried
//! after a 500, a reboot pages no one, a charger dropping in and out is one incident, faults
//! open and clear, and only operators and facility managers may point alerts anywhere.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use common::world::{PASSWORD, create_org, create_user};
use common::{Api, TestCharger, TestServer, boot_payload};
use serde_json::{Value, json};

const PW: &str = "charger-password-1";
const SECRET: &str = "whsec-test-secret-0123";

/// What the receiver got: (signature header, event header, body).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, String, String)>>>,
    /// Requests answered 500 before the first 200.
    refuse_first: Arc<Mutex<u32>>,
}

impl Receiver {
    async fn start(refuse_first: u32) -> (Self, String) {
        let r = Receiver::default();
        *r.refuse_first.lock().unwrap() = refuse_first;
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post({
                let r = r.clone();
                move |headers: HeaderMap, body: String| {
                    let r = r.clone();
                    async move {
                        let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                        let mut refuse = r.refuse_first.lock().unwrap();
                        if *refuse > 0 {
                            *refuse -= 1;
                            return StatusCode::INTERNAL_SERVER_ERROR;
                        }
                        let got = (header("x-voltgate-signature"), header("x-voltgate-event"), body);
                        r.got.lock().unwrap().push(got);
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (r, url)
    }

    /// Bodies of the events received for `charger` (any charger: `None`), in order.
    fn events(&self, charger: Option<&str>) -> Vec<Value> {
        let got = self.got.lock().unwrap();
        got.iter()
            .map(|(_, _, body)| serde_json::from_str::<Value>(body).unwrap())
            .filter(|b| charger.is_none_or(|c| b["charger_id"] == c))
            .collect()
    }

    fn names(&self, charger: &str) -> Vec<String> {
        self.events(Some(charger))
            .iter()
            .map(|b| b["event"].as_str().unwrap().to_owned())
            .collect()
    }

    async fn until(&self, what: &str, within: Duration, done: impl Fn(&Receiver) -> bool) {
        let start = Instant::now();
        while !done(self) {
            assert!(start.elapsed() < within, "{what}: got {:?}", self.events(None));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The signature as the receiver checks it: HMAC-SHA256 of `"{t}." + body`.
fn verify(header: &str, body: &str) -> bool {
    use hmac::{KeyInit, Mac};
    let Some((t, v1)) = header.strip_prefix("t=").and_then(|rest| rest.split_once(",v1=")) else {
        return false;
    };
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    hex == v1
}

async fn online(t: &TestServer, id: &str) -> TestCharger {
    let mut cp = t.charger(id, "1.6", PW).await;
    cp.call_ok("BootNotification", boot_payload("1.6")).await;
    cp
}

async fn register(admin: &Api, id: &str, org: i64) {
    let (status, body) = admin
        .post("/chargers", json!({"id": id, "organisation_id": org, "password": PW}))
        .await;
    assert_eq!(status, 201, "{body}");
}

fn connector(connector_status: &str, error: &str) -> Value {
    json!({"connectorId": 1, "errorCode": error, "status": connector_status, "timestamp": "2026-01-01T00:00:00Z"})
}

#[tokio::test]
async fn webhooks_are_signed_retried_debounced_and_fold_flapping_into_one_incident() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = create_org(&admin, "A", 1).await;
    let b = create_org(&admin, "B", 1).await;
    for (id, org) in [("W-1", a), ("W-2", a), ("W-B", b)] {
        register(&admin, id, org).await;
    }
    let (rx, url) = Receiver::start(1).await;

    // Who may point alerts where.
    create_user(&admin, "eng", a, &[(a, "maintenance")]).await;
    create_user(&admin, "fac", a, &[(a, "facility_manager")]).await;
    let eng = t.login("eng", PASSWORD).await;
    let fac = t.login("fac", PASSWORD).await;
    let hook = |org: i64| json!({"organisation_id": org, "url": url, "events": ["charger.offline"]});
    let (status, body) = eng.post("/webhooks", hook(a)).await;
    assert_eq!((status, body["error"].as_str()), (403, Some("forbidden")), "{body}");
    let (status, body) = fac.post("/webhooks", hook(b)).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
    let (status, body) = fac
        .post(
            "/webhooks",
            json!({"organisation_id": a, "url": "ftp://x/", "events": ["charger.offline"]}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, generated) = fac.post("/webhooks", hook(a)).await;
    assert_eq!(status, 201, "{generated}");
    assert!(
        generated["secret"].as_str().is_some_and(|s| s.len() >= 32),
        "a generated secret, shown once: {generated}"
    );
    let (_, shown) = fac.get(&format!("/webhooks/{}", generated["id"])).await;
    assert!(shown.get("secret").is_none(), "never again: {shown}");
    let (status, _) = fac.delete(&format!("/webhooks/{}", generated["id"])).await;
    assert_eq!(status, 204);

    let events = json!([
        "charger.offline",
        "charger.online",
        "charger.fault",
        "charger.fault_cleared"
    ]);
    let (status, created) = admin
        .post(
            "/webhooks",
            json!({"organisation_id": a, "url": url, "secret": SECRET, "events": events, "offline_after_s": 2}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_i64().unwrap();

    let mut w1 = online(&t, "W-1").await;
    let mut w2 = online(&t, "W-2").await;
    let mut wb = online(&t, "W-B").await;
    wb.call_ok("Heartbeat", json!({})).await;

    // W-1 goes away for good: announced after 2 s, once the receiver stops answering 500.
    drop(w1);
    rx.until("W-1 offline", Duration::from_secs(15), |r| {
        r.names("W-1") == ["charger.offline"]
    })
    .await;
    // W-2 reboots (back within a second): nobody is paged.
    drop(w2);
    tokio::time::sleep(Duration::from_millis(500)).await;
    w2 = online(&t, "W-2").await;

    // W-1 comes back, drops out again before 2 s and comes back: still the one incident.
    w1 = online(&t, "W-1").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    drop(w1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _w1 = online(&t, "W-1").await;
    rx.until("W-1 online", Duration::from_secs(15), |r| r.names("W-1").len() == 2)
        .await;
    assert_eq!(
        rx.names("W-1"),
        ["charger.offline", "charger.online"],
        "one incident, opened and resolved once"
    );
    assert!(
        rx.names("W-2").is_empty(),
        "a reboot pages no one: {:?}",
        rx.events(None)
    );

    // A fault opens and clears.
    w2.call_ok("StatusNotification", connector("Faulted", "GroundFailure"))
        .await;
    rx.until("W-2 fault", Duration::from_secs(10), |r| {
        r.names("W-2") == ["charger.fault"]
    })
    .await;
    w2.call_ok("StatusNotification", connector("Available", "NoError"))
        .await;
    rx.until("W-2 fault cleared", Duration::from_secs(10), |r| {
        r.names("W-2").len() == 2
    })
    .await;
    assert_eq!(rx.names("W-2"), ["charger.fault", "charger.fault_cleared"]);
    let fault = &rx.events(Some("W-2"))[0];
    assert_eq!(fault["data"]["faults"][0]["code"], "GroundFailure", "{fault}");

    // Every delivery is signed with the secret; none concerned B's charger.
    for (signature, event, body) in rx.got.lock().unwrap().iter() {
        assert!(verify(signature, body), "{event}: {signature} over {body}");
        let b: Value = serde_json::from_str(body).unwrap();
        assert_eq!(b["event"], json!(event));
        assert_eq!(b["organisation_id"], json!(a));
    }
    assert!(rx.events(Some("W-B")).is_empty());

    // The log shows the 500 that was retried.
    let (status, log) = admin.get(&format!("/webhooks/{id}/deliveries?limit=50")).await;
    assert_eq!(status, 200, "{log}");
    let rows = log.as_array().unwrap();
    assert_eq!(rows.len(), 4, "{log}");
    let first = rows.last().unwrap();
    assert_eq!(
        (
            first["event"].as_str(),
            first["state"].as_str(),
            first["attempts"].as_i64(),
            first["last_status"].as_i64()
        ),
        (Some("charger.offline"), Some("delivered"), Some(2), Some(204)),
        "{first}"
    );
    let (status, _) = fac.get(&format!("/webhooks/{id}/deliveries")).await;
    assert_eq!(status, 200, "the facility manager of A reads A's webhook");
    let (status, _) = eng.get(&format!("/webhooks/{id}/deliveries")).await;
    assert_eq!(status, 403, "maintenance does not");
}

#[tokio::test]
async fn critical_security_events_failed_firmware_and_finished_campaigns_are_announced_once() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = create_org(&admin, "A", 1).await;
    register(&admin, "W-3", a).await;
    let (rx, url) = Receiver::start(0).await;
    let events = json!(["security.critical", "firmware.failed", "campaign.done"]);
    let (status, body) = admin
        .post(
            "/webhooks",
            json!({"organisation_id": a, "url": url, "secret": SECRET, "events": events}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    let mut cp = t.charger("W-3", "2.0.1", PW).await;
    cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    let at = "2026-01-01T00:00:00Z";
    cp.call_ok(
        "SecurityEventNotification",
        json!({"type": "InvalidMessages", "timestamp": at}),
    )
    .await;
    cp.call_ok(
        "SecurityEventNotification",
        json!({"type": "TamperDetectionActivated", "timestamp": at}),
    )
    .await;
    cp.call_ok("FirmwareStatusNotification", json!({"status": "Downloading"}))
        .await;
    cp.call_ok("FirmwareStatusNotification", json!({"status": "InstallationFailed"}))
        .await;
    rx.until("security and firmware", Duration::from_secs(10), |r| {
        r.names("W-3").len() == 2
    })
    .await;
    assert_eq!(rx.names("W-3"), ["security.critical", "firmware.failed"]);
    assert_eq!(rx.events(Some("W-3"))[0]["data"]["status"], "TamperDetectionActivated");

    let body =
        json!({"name": "night reset", "command": {"kind": "reset", "type": "soft"}, "target": {"organisation_id": a}});
    let (status, created) = admin.post("/campaigns", body).await;
    assert_eq!(status, 201, "{created}");
    let call = cp.recv().await;
    assert_eq!(call[2], "Reset", "{call}");
    cp.send_raw(&json!([3, call[1], {"status": "Accepted"}]).to_string())
        .await;
    rx.until("campaign done", Duration::from_secs(10), |r| r.events(None).len() == 3)
        .await;
    let done = &rx.events(None)[2];
    assert_eq!(
        (done["event"].as_str(), done["data"]["campaign_id"].as_i64()),
        (Some("campaign.done"), created["id"].as_i64()),
        "{done}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rx.events(None).len(), 3, "each announced once: {:?}", rx.events(None));
}

#[tokio::test]
async fn a_fault_that_lasts_opens_a_ticket_for_the_maintenance_users_and_its_clearing_closes_it() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = create_org(&admin, "A", 1).await;
    let a1 = create_org(&admin, "A1", a).await;
    register(&admin, "T-1", a1).await;
    let (status, org) = admin
        .patch(
            &format!("/organisations/{a}"),
            json!({"auto_tickets": true, "auto_tickets_after_s": 1}),
        )
        .await;
    assert_eq!((status, org["auto_tickets"].as_bool()), (200, Some(true)), "{org}");
    create_user(&admin, "eng", a1, &[(a1, "maintenance")]).await;
    let eng = t.login("eng", PASSWORD).await;

    let mut cp = online(&t, "T-1").await;
    cp.call_ok("StatusNotification", connector("Faulted", "GroundFailure"))
        .await;
    let start = Instant::now();
    let ticket = loop {
        let (_, tickets) = eng.get("/tickets").await;
        if let Some(t) = tickets.as_array().and_then(|t| t.first()).cloned() {
            break t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "a ticket for the fault: {tickets}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        (
            ticket["charger_id"].as_str(),
            ticket["organisation_id"].as_i64(),
            ticket["status"].as_str()
        ),
        (Some("T-1"), Some(a1), Some("open")),
        "in the charger's organisation, for its maintenance users: {ticket}"
    );
    assert!(
        ticket["title"].as_str().is_some_and(|t| t.contains("GroundFailure")),
        "{ticket}"
    );
    assert!(ticket["fault_since"].is_string(), "{ticket}");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, tickets) = eng.get("/tickets").await;
    assert_eq!(
        tickets.as_array().unwrap().len(),
        1,
        "one ticket per incident: {tickets}"
    );

    // A person closes it while the fault lasts: that incident opens no other. The next does.
    let (status, _) = eng
        .patch(&format!("/tickets/{}", ticket["id"]), json!({"status": "closed"}))
        .await;
    assert_eq!(status, 200);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (_, tickets) = eng.get("/tickets").await;
    assert_eq!(tickets.as_array().unwrap().len(), 1, "{tickets}");
    cp.call_ok("StatusNotification", connector("Available", "NoError"))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cp.call_ok("StatusNotification", connector("Faulted", "HighTemperature"))
        .await;
    let start = Instant::now();
    let ticket = loop {
        let (_, tickets) = eng.get("/tickets").await;
        let second = tickets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["id"] != ticket["id"])
            .cloned();
        if let Some(t) = second {
            break t;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "a ticket for the next fault: {tickets}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(ticket["status"], "open", "{ticket}");

    cp.call_ok("StatusNotification", connector("Available", "NoError"))
        .await;
    let id = ticket["id"].as_i64().unwrap();
    let start = Instant::now();
    loop {
        let (_, t) = eng.get(&format!("/tickets/{id}")).await;
        if t["status"] == "closed" {
            assert!(
                t["comments"][0]["body"].as_str().is_some_and(|c| c.contains("cleared")),
                "{t}"
            );
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "closed when the fault clears: {t}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A user with one role on `org`, and an e-mail address.
async fn user_with_mail(admin: &Api, name: &str, org: i64, role: &str, email: Option<&str>) -> i64 {
    let id = create_user(admin, name, org, &[(org, role)]).await;
    if let Some(email) = email {
        let (status, body) = admin.patch(&format!("/users/{id}"), json!({"email": email})).await;
        assert_eq!(status, 200, "{body}");
    }
    id
}

#[tokio::test]
async fn e_mail_subscriptions_mail_only_what_the_subscriber_may_read_at_the_time() {
    let (port, mut mails) = common::mail::smtp_sink().await;
    let t = TestServer::start_with(|c| {
        c.smtp = Some(
            serde_json::from_value(
                json!({"host": "127.0.0.1", "port": port, "tls": "none", "from": "voltgate <alerts@example.test>"}),
            )
            .unwrap(),
        );
    })
    .await;
    let admin = t.admin().await;
    let a = create_org(&admin, "A", 1).await;
    let a1 = create_org(&admin, "A1", a).await;
    let b = create_org(&admin, "B", 1).await;
    for (id, org) in [("M-1", a1), ("M-2", a), ("M-B", b)] {
        register(&admin, id, org).await;
    }
    let sup_id = user_with_mail(&admin, "sup", a, "support", Some("sup@example.test")).await;
    user_with_mail(&admin, "fleet", a, "fleet_manager", Some("fleet@example.test")).await;
    user_with_mail(&admin, "noaddr", a, "maintenance", None).await;
    let sup = t.login("sup", PASSWORD).await;
    let fleet = t.login("fleet", PASSWORD).await;
    let noaddr = t.login("noaddr", PASSWORD).await;

    let wants = |org: i64| json!({"organisation_id": org, "events": ["charger.fault"]});
    let (status, body) = sup.post("/me/subscriptions", wants(b)).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")), "{body}");
    let (status, body) = noaddr.post("/me/subscriptions", wants(a)).await;
    assert_eq!(status, 422, "no address to mail: {body}");
    let (status, mine) = sup.post("/me/subscriptions", wants(a)).await;
    assert_eq!(status, 201, "{mine}");
    let (status, theirs) = fleet.post("/me/subscriptions", wants(a)).await;
    assert_eq!(status, 201, "{theirs}");
    let (_, listed) = sup.get("/me/subscriptions").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "only one's own: {listed}");
    let (status, _) = fleet.delete(&format!("/me/subscriptions/{}", mine["id"])).await;
    assert_eq!(status, 404, "nobody ends another's subscription");
    let (_, hooks) = admin.get("/webhooks").await;
    assert_eq!(hooks, json!([]), "subscriptions are not webhooks: {hooks}");

    // M-1 (below A) faults: support is told; the fleet manager reads home chargers only.
    let mut m1 = online(&t, "M-1").await;
    let mut mb = online(&t, "M-B").await;
    mb.call_ok("StatusNotification", connector("Faulted", "GroundFailure"))
        .await;
    m1.call_ok("StatusNotification", connector("Faulted", "GroundFailure"))
        .await;
    let mail = tokio::time::timeout(Duration::from_secs(10), mails.recv())
        .await
        .expect("a mail within 10 s")
        .unwrap();
    assert!(mail.contains("To: sup@example.test"), "{mail}");
    assert!(mail.contains("Charger M-1 reports a fault"), "{mail}");
    assert!(mail.contains("GroundFailure"), "{mail}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        mails.try_recv().is_err(),
        "no mail about M-B, none to the fleet manager"
    );

    // Once support's grant is gone, M-2's fault is not mailed to them.
    let (status, _) = admin.put(&format!("/users/{sup_id}/memberships"), json!([])).await;
    assert_eq!(status, 200);
    let mut m2 = online(&t, "M-2").await;
    m2.call_ok("StatusNotification", connector("Faulted", "GroundFailure"))
        .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(mails.try_recv().is_err(), "the gate is asked at each mail");

    let (status, _) = sup.delete(&format!("/me/subscriptions/{}", mine["id"])).await;
    assert_eq!(status, 204);
    let (_, listed) = sup.get("/me/subscriptions").await;
    assert_eq!(listed, json!([]));

    // The same from the account page of the console.
    let mut console = common::console::Console::login(&t, "fleet", PASSWORD).await;
    let page = console.get("/account").await;
    assert!(page.body.contains("action=\"/account/subscriptions\""), "{}", page.body);
    let a_id = a.to_string();
    let done = console
        .post(
            "/account/subscriptions",
            &[
                ("organisation_id", &a_id),
                ("events", "charger.offline"),
                ("events", "campaign.done"),
                ("offline_after_s", "600"),
            ],
        )
        .await;
    assert_eq!((done.status, done.location.as_deref()), (303, Some("/account")));
    let (_, listed) = fleet.get("/me/subscriptions").await;
    let added = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["offline_after_s"] == 600)
        .cloned();
    let added = added.unwrap_or_else(|| panic!("{listed}"));
    assert_eq!(added["events"], json!(["campaign.done", "charger.offline"]));
    let page = console.get("/account").await;
    assert!(page.body.contains("Subscribed: 2 event kinds"), "{}", page.body);
    let done = console
        .post(&format!("/account/subscriptions/{}/delete", added["id"]), &[])
        .await;
    assert_eq!(done.status, 303);
    let done = console
        .post(&format!("/account/subscriptions/{}/delete", mine["id"]), &[])
        .await;
    assert_eq!(done.status, 404, "one that has ended");
    let (_, listed) = fleet.get("/me/subscriptions").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // Without [smtp] there is nothing to subscribe to.
    let plain = TestServer::start().await;
    let (status, body) = plain.admin().await.post("/me/subscriptions", wants(1)).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{body}");
}
