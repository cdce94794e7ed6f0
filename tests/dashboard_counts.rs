//! The dashboard's charger and connector counts, which the tally keeps per organisation: every
//! change a user could have seen on this node (a connection, a status, a fault, a
//! registration, a move, a deletion, a disconnection) is counted by the next dashboard read,
//! in its own subtree only, and the same counts come back after a restart.

mod common;

use common::world::{PASSWORD, create_org, create_user, register_charger};
use common::{Api, TestServer, boot_payload};
use serde_json::{Value, json};
use std::time::Duration;

const PW: &str = "charger-password-1";

/// Total, online and faulted chargers, and connectors by status, as the dashboard says.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    total: u64,
    online: u64,
    faulted: u64,
    connectors: Value,
}

fn seen(total: u64, online: u64, faulted: u64, connectors: Value) -> Seen {
    Seen {
        total,
        online,
        faulted,
        connectors,
    }
}

async fn dashboard(api: &Api) -> Seen {
    let (status, body) = api.get("/dashboard").await;
    assert_eq!(status, 200, "{body}");
    let n = |key: &str| body["chargers"][key].as_u64().expect(key);
    assert_eq!(n("offline"), n("total") - n("online"), "{body}");
    seen(n("total"), n("online"), n("faulted"), body["connectors"].clone())
}

/// A 1.6 StatusNotification for `connector`.
fn status(connector: u32, status: &str, error: &str) -> Value {
    json!({"connectorId": connector, "errorCode": error, "status": status, "timestamp": "2026-12-07T10:00:00Z"})
}

/// Waits until the server's tally is built, so what follows reads it and not the database.
async fn tally_built(t: &TestServer) {
    for _ in 0..200 {
        if t.server().state.tally.is_built() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the tally was not built within 5 s");
}

/// Polls until the dashboard shows `want` (a disconnection is noticed when the server reads the
/// close, not when the test drops its socket).
async fn eventually(api: &Api, want: Seen) {
    for _ in 0..100 {
        if dashboard(api).await == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(dashboard(api).await, want);
}

#[tokio::test]
async fn the_dashboard_counts_follow_every_change_in_the_right_subtree() {
    let mut t = TestServer::start().await;
    let admin = t.admin().await;
    let a = create_org(&admin, "A", 1).await;
    let a1 = create_org(&admin, "A1", a).await;
    let b = create_org(&admin, "B", 1).await;
    create_user(&admin, "op-a", a, &[(a, "operator")]).await;
    create_user(&admin, "op-b", b, &[(b, "operator")]).await;
    for (id, org) in [("CP-A1", a1), ("CP-A", a), ("CP-B", b)] {
        register_charger(&admin, id, org, None, PW).await;
    }
    let op_a = t.login("op-a", PASSWORD).await;
    let op_b = t.login("op-b", PASSWORD).await;
    tally_built(&t).await;
    assert_eq!(dashboard(&op_a).await, seen(2, 0, 0, json!({})));
    assert_eq!(dashboard(&op_b).await, seen(1, 0, 0, json!({})));

    // A charger two levels down connects and reports a healthy and a faulted connector.
    let mut a1_cp = t.charger("CP-A1", "1.6", PW).await;
    a1_cp.call_ok("BootNotification", boot_payload("1.6")).await;
    a1_cp
        .call_ok("StatusNotification", status(1, "Available", "NoError"))
        .await;
    a1_cp
        .call_ok("StatusNotification", status(2, "Faulted", "GroundFailure"))
        .await;
    let a_now = seen(2, 1, 1, json!({"Available": 1, "Faulted": 1}));
    assert_eq!(dashboard(&op_a).await, a_now);
    assert_eq!(dashboard(&op_b).await, seen(1, 0, 0, json!({})));
    assert_eq!(
        dashboard(&admin).await,
        seen(3, 1, 1, json!({"Available": 1, "Faulted": 1}))
    );

    // B's 2.0.1 charger: counted in B and at the root, never in A.
    let mut b_cp = t.charger("CP-B", "2.0.1", PW).await;
    b_cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    b_cp.call_ok("StatusNotification", common::status_payload("2.0.1", "Occupied"))
        .await;
    assert_eq!(dashboard(&op_b).await, seen(1, 1, 0, json!({"Occupied": 1})));
    assert_eq!(dashboard(&op_a).await, a_now);

    // The fault clears.
    a1_cp
        .call_ok("StatusNotification", status(2, "Available", "NoError"))
        .await;
    assert_eq!(dashboard(&op_a).await, seen(2, 1, 0, json!({"Available": 2})));

    // Moved from A to B: its counts go with it.
    let (code, body) = admin.patch("/chargers/CP-A", json!({"organisation_id": b})).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(dashboard(&op_a).await, seen(1, 1, 0, json!({"Available": 2})));
    assert_eq!(dashboard(&op_b).await, seen(2, 1, 0, json!({"Occupied": 1})));

    // Gone: the disconnected one stays counted, offline; the deleted one and its connectors
    // are not counted at all.
    drop(a1_cp);
    eventually(&op_a, seen(1, 0, 0, json!({"Available": 2}))).await;
    let (code, body) = admin.delete("/chargers/CP-B").await;
    assert_eq!(code, 204, "{body}");
    assert_eq!(dashboard(&op_b).await, seen(1, 0, 0, json!({})));
    drop(b_cp);

    // Built again from the database at start: the same figures.
    let before = dashboard(&admin).await;
    t.restart().await;
    tally_built(&t).await;
    let admin = t.admin().await;
    assert_eq!(dashboard(&admin).await, before);
    assert_eq!(
        dashboard(&t.login("op-a", PASSWORD).await).await,
        seen(1, 0, 0, json!({"Available": 2}))
    );
}

#[tokio::test]
async fn home_chargers_only_are_counted_in_the_database_the_same_way() {
    // A fleet manager sees only chargers at home sites: the tally cannot sort those, so the
    // dashboard counts them in the database; the figures must mean the same.
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let org = create_org(&admin, "Fleet", 1).await;
    create_user(&admin, "fleet", org, &[(org, "fleet_manager")]).await;
    let home = admin
        .create(
            "/sites",
            json!({"name": "Home", "organisation_id": org, "kind": "home"}),
        )
        .await;
    for (id, site) in [("CP-HOME", Some(home)), ("CP-DEPOT", None)] {
        register_charger(&admin, id, org, site, PW).await;
    }
    let fleet = t.login("fleet", PASSWORD).await;
    let mut cp = t.charger("CP-HOME", "1.6", PW).await;
    cp.call_ok("BootNotification", boot_payload("1.6")).await;
    cp.call_ok("StatusNotification", status(1, "Faulted", "GroundFailure"))
        .await;
    let mut depot = t.charger("CP-DEPOT", "1.6", PW).await;
    depot.call_ok("BootNotification", boot_payload("1.6")).await;
    depot
        .call_ok("StatusNotification", status(1, "Charging", "NoError"))
        .await;
    assert_eq!(dashboard(&fleet).await, seen(1, 1, 1, json!({"Faulted": 1})));
    assert_eq!(
        dashboard(&admin).await,
        seen(2, 2, 1, json!({"Charging": 1, "Faulted": 1}))
    );
}
