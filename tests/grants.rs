//! Time-bounded memberships (issue 23): a role counts only inside its window, at the very
//! next request, for the API and the console; windows are shown, audited when they change
//! and when they end, listed on the dashboard before they end, and never outlast the
//! granting operator's own.
//!
//! ```text
//! Root(1) ── A (CP-A)
//!        └── B
//! ```

mod common;

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use common::console::Console;
use common::world::{PASSWORD, create_org, create_user, id_of};
use common::{Api, TestServer};
use serde_json::{Value, json};

const ROOT: i64 = 1;

fn at(offset: chrono::Duration) -> String {
    (Utc::now() + offset).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A with a charger CP-A.
async fn depot(admin: &Api) -> i64 {
    let a = create_org(admin, "Depot A", ROOT).await;
    let (status, body) = admin
        .post(
            "/chargers",
            json!({"id": "CP-A", "organisation_id": a, "password": "grants-charger-pass-1"}),
        )
        .await;
    assert_eq!(status, 201, "charger: {body}");
    a
}

async fn user(admin: &Api, id: i64) -> Value {
    let (status, body) = admin.get(&format!("/users/{id}")).await;
    assert_eq!(status, 200, "user {id}: {body}");
    body
}

async fn audit_actions(admin: &Api, user_id: Option<i64>) -> Vec<Value> {
    let (status, body) = admin.get("/audit?limit=500").await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .expect("audit list")
        .iter()
        .filter(|row| user_id.is_none_or(|_| row["resource"] == json!(format!("user:{}", user_id.unwrap()))))
        .cloned()
        .collect()
}

#[tokio::test]
async fn a_grant_that_ends_stops_the_very_next_api_call_and_console_page() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = depot(&admin).await;
    let eng = create_user(&admin, "eng", a, &[]).await;
    let ends = Utc::now() + chrono::Duration::seconds(3);
    let (status, body) = admin
        .put(
            &format!("/users/{eng}/memberships"),
            json!([{"organisation_id": a, "role": "maintenance",
                "valid_until": ends.to_rfc3339_opts(SecondsFormat::Millis, true)}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["memberships"][0]["state"], "active", "{body}");
    assert!(
        body["memberships"][0]["valid_until"].is_string(),
        "the window is shown: {body}"
    );

    let api = t.login("eng", PASSWORD).await;
    let mut console = Console::login(&t, "eng", PASSWORD).await;
    assert_eq!(api.get("/chargers/CP-A").await.0, 200);
    assert_eq!(console.get("/chargers/CP-A").await.status, 200);

    let wait = (ends - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(200);
    tokio::time::sleep(wait).await;
    // Same token, same session cookie: the role is gone at once.
    let (status, body) = api.get("/chargers/CP-A").await;
    assert_eq!(status, 404, "an ended grant sees nothing: {body}");
    let (status, body) = api.get("/chargers").await;
    assert!(
        status == 403 || body == json!([]),
        "no chargers listed: {status} {body}"
    );
    assert_eq!(console.get("/chargers/CP-A").await.status, 404);
    assert_eq!(user(&admin, eng).await["memberships"][0]["state"], "ended");

    // The end is audited once, by the node's clock work.
    voltgate::services::housekeeping::audit_ended_memberships(&t.server().state).await;
    voltgate::services::housekeeping::audit_ended_memberships(&t.server().state).await;
    let expired: Vec<Value> = audit_actions(&admin, Some(eng))
        .await
        .into_iter()
        .filter(|r| r["action"] == "user.membership.expired")
        .collect();
    assert_eq!(expired.len(), 1, "one expiry row: {expired:?}");
    assert_eq!(expired[0]["organisation_id"], json!(a));
}

#[tokio::test]
async fn a_future_valid_from_grants_nothing_yet() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = depot(&admin).await;
    let eng = create_user(&admin, "eng", a, &[]).await;
    let (status, body) = admin
        .put(
            &format!("/users/{eng}/memberships"),
            json!([{"organisation_id": a, "role": "maintenance", "valid_from": at(chrono::Duration::hours(2))}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["memberships"][0]["state"], "scheduled", "{body}");
    let api = t.login("eng", PASSWORD).await;
    assert_eq!(api.get("/chargers/CP-A").await.0, 404);
    let (status, body) = api.post("/chargers/CP-A/reset", json!({"type": "soft"})).await;
    assert_eq!(status, 404, "no command before the window opens: {body}");
    let (status, me) = api.get("/me").await;
    assert_eq!(status, 200);
    assert_eq!(
        me["memberships"][0]["state"], "scheduled",
        "the account shows what is coming: {me}"
    );
}

#[tokio::test]
async fn an_invitation_carries_its_window_and_bad_windows_are_refused() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = depot(&admin).await;
    let friday = at(chrono::Duration::days(3));
    let (status, body) = admin
        .post(
            "/users",
            json!({"username": "contractor", "email": "c@example.test", "organisation_id": a,
                "memberships": [{"organisation_id": a, "role": "maintenance", "valid_until": friday}]}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert!(body["invitation"]["url"].is_string(), "invited: {body}");
    assert_eq!(body["memberships"][0]["role"], "maintenance");
    assert_eq!(body["memberships"][0]["state"], "active");
    let until = body["memberships"][0]["valid_until"].as_str().expect("valid_until");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(until).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&friday).unwrap()
    );

    for (window, field) in [
        (json!({"valid_until": at(-chrono::Duration::hours(1))}), "valid_until"),
        (
            json!({"valid_from": at(chrono::Duration::hours(2)), "valid_until": at(chrono::Duration::hours(1))}),
            "valid_until",
        ),
    ] {
        let mut m = json!({"organisation_id": a, "role": "support"});
        m.as_object_mut().unwrap().extend(window.as_object().unwrap().clone());
        let (status, body) = admin
            .post(
                "/users",
                json!({"username": "x", "password": PASSWORD, "memberships": [m]}),
            )
            .await;
        assert_eq!((status, body["field"].as_str()), (422, Some(field)), "{body}");
    }
    let (status, _) = admin.get("/users?limit=500").await;
    assert_eq!(status, 200);
    let (_, users) = admin.get("/users?limit=500").await;
    assert!(
        !users.as_array().unwrap().iter().any(|u| u["username"] == "x"),
        "a refused grant leaves no user behind"
    );
}

#[tokio::test]
async fn a_grant_never_outlasts_the_granting_operator_and_renewals_are_audited() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = depot(&admin).await;
    let b = create_org(&admin, "Depot B", ROOT).await;
    let temp = create_user(&admin, "temp-op", a, &[]).await;
    let friday = at(chrono::Duration::days(3));
    let (status, body) = admin
        .put(
            &format!("/users/{temp}/memberships"),
            json!([{"organisation_id": a, "role": "operator", "valid_until": friday}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let op = t.login("temp-op", PASSWORD).await;
    let (status, body) = op
        .post(
            "/users",
            json!({"username": "sidekick", "password": PASSWORD, "organisation_id": a}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let sidekick = id_of(&body, "sidekick");
    for window in [json!({}), json!({"valid_until": at(chrono::Duration::days(30))})] {
        let mut m = json!({"organisation_id": a, "role": "operator"});
        m.as_object_mut().unwrap().extend(window.as_object().unwrap().clone());
        let (status, body) = op.put(&format!("/users/{sidekick}/memberships"), json!([m])).await;
        assert_eq!(status, 403, "a temporary operator cannot leave a longer grant: {body}");
    }
    let (status, body) = op
        .put(
            &format!("/users/{temp}/memberships"),
            json!([{"organisation_id": a, "role": "operator"}]),
        )
        .await;
    assert_eq!(status, 403, "nobody extends their own: {body}");
    let thursday = at(chrono::Duration::days(2));
    let (status, body) = op
        .put(
            &format!("/users/{sidekick}/memberships"),
            json!([{"organisation_id": a, "role": "maintenance", "valid_until": thursday}]),
        )
        .await;
    assert_eq!(status, 200, "within its own window it may grant: {body}");
    let (status, _) = op
        .put(
            &format!("/users/{sidekick}/memberships"),
            json!([{"organisation_id": b, "role": "maintenance", "valid_until": thursday}]),
        )
        .await;
    assert_eq!(status, 404, "outside its subtree");

    // The admin renews the sidekick's role: the window change is its own audit row.
    let (status, body) = admin
        .put(
            &format!("/users/{sidekick}/memberships"),
            json!([{"organisation_id": a, "role": "maintenance", "valid_until": friday}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let renewals: Vec<Value> = audit_actions(&admin, Some(sidekick))
        .await
        .into_iter()
        .filter(|r| r["action"] == "user.membership.window")
        .collect();
    assert_eq!(renewals.len(), 1, "{renewals:?}");

    // The operator's dashboard lists both roles ending within the week, soonest first.
    let (status, dash) = admin.get("/dashboard").await;
    assert_eq!(status, 200, "{dash}");
    let ending: Vec<&str> = dash["expiring_grants"]
        .as_array()
        .unwrap_or_else(|| panic!("expiring_grants in {dash}"))
        .iter()
        .map(|g| g["username"].as_str().unwrap())
        .collect();
    assert_eq!(ending, ["temp-op", "sidekick"], "{dash}");
    let eng = create_user(&admin, "eng", a, &[(a, "maintenance")]).await;
    let (_, dash) = t.login("eng", PASSWORD).await.get("/dashboard").await;
    assert!(
        dash.get("expiring_grants").is_none(),
        "only for operators: {dash} ({eng})"
    );
}

#[tokio::test]
async fn the_console_gives_a_role_with_a_window_and_shows_it() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = depot(&admin).await;
    let eng = create_user(&admin, "eng", a, &[]).await;
    let mut c = Console::login(&t, "admin", common::ADMIN_PASSWORD).await;
    let until = (Utc::now() + chrono::Duration::days(2))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let done = c
        .post(
            "/users/roles",
            &[
                ("user_id", &eng.to_string()),
                ("organisation_id", &a.to_string()),
                ("role", "maintenance"),
                ("change", "add"),
                ("valid_until", &until),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = c.get("/users").await;
    assert!(
        page.body.contains(&until.replace('T', " ")),
        "the window is on the users page"
    );
    let shown = user(&admin, eng).await;
    assert!(shown["memberships"][0]["valid_until"].is_string(), "{shown}");
    let home = c.get("/").await;
    assert!(home.body.contains("Roles ending within 7 days") && home.body.contains("eng"));
}
