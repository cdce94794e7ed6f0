//! What an attacker with a foothold would try (docs/api.md "No escalation", "Authentication"):
//! every attempt is refused with the documented status and, where it is a refusal by the gate
//! (401 excluded), leaves an audit row `{user_id: attacker, outcome: "denied"}`.
//!
//! ```text
//! Root(1) ── A ── A1
//!        └── B
//! ```
//! `opA` is operator on A; `maint` and `sup` hold maintenance and support on A.

mod common;

use std::time::Duration;

use common::world::{PASSWORD, create_org, create_user, membership_list};
use common::{Api, TestServer};
use reqwest::Method;
use serde_json::{Value, json};

const ROOT: i64 = 1;

// ---------------------------------------------------------------------------------------------
// helpers

/// The user as the admin sees it.
async fn user(admin: &Api, id: i64) -> Value {
    let (status, body) = admin.get(&format!("/users/{id}")).await;
    assert_eq!(status, 200, "admin reads user {id}: {body}");
    body
}

/// The user's memberships as sorted `(organisation_id, role)` pairs.
fn memberships_of(user: &Value) -> Vec<(i64, String)> {
    let mut list: Vec<(i64, String)> = user["memberships"]
        .as_array()
        .unwrap_or_else(|| panic!("`memberships` list in {user}"))
        .iter()
        .map(|m| {
            (
                m["organisation_id"].as_i64().expect("organisation_id"),
                m["role"].as_str().expect("role").to_owned(),
            )
        })
        .collect();
    list.sort();
    list
}

fn pairs(memberships: &[(i64, &str)]) -> Vec<(i64, String)> {
    let mut list: Vec<(i64, String)> = memberships.iter().map(|(o, r)| (*o, r.to_string())).collect();
    list.sort();
    list
}

/// How many audit rows say `user_id` was denied something.
async fn denied_count(admin: &Api, user_id: i64) -> usize {
    let (status, body) = admin.get("/audit?limit=500").await;
    assert_eq!(status, 200, "admin reads the audit log: {body}");
    body.as_array()
        .unwrap_or_else(|| panic!("audit list: {body}"))
        .iter()
        .filter(|row| row["user_id"] == json!(user_id) && row["outcome"] == json!("denied"))
        .count()
}

/// Waits (briefly) until the audit log holds more denials of `user_id` than `before`;
/// returns the new count.
async fn assert_denial_audited(admin: &Api, user_id: i64, before: usize, what: &str) -> usize {
    for _ in 0..20 {
        let now = denied_count(admin, user_id).await;
        if now > before {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, rows) = admin.get("/audit?limit=20").await;
    panic!("{what}: no audit row {{user_id: {user_id}, outcome: \"denied\"}}; newest rows: {rows}");
}

fn assert_error(status: u16, body: &Value, expected_status: u16, code: &str, what: &str) {
    assert_eq!(status, expected_status, "{what}: {body}");
    assert_eq!(body["error"], json!(code), "{what}: error code in {body}");
}

/// The tree and the admin, on a fresh server.
struct World {
    t: TestServer,
    admin: Api,
    a: i64,
    a1: i64,
    b: i64,
}

async fn world() -> World {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = create_org(&admin, "A", ROOT).await;
    let a1 = create_org(&admin, "A1", a).await;
    let b = create_org(&admin, "B", ROOT).await;
    World { t, admin, a, a1, b }
}

/// `opA`: operator on A (home organisation A), logged in.
async fn operator_a(w: &World) -> (i64, Api) {
    let id = create_user(&w.admin, "opA", w.a, &[(w.a, "operator")]).await;
    (id, w.t.login("opA", PASSWORD).await)
}

/// Sends a login and returns status, `Retry-After` and body.
async fn raw_login(t: &TestServer, username: &str, password: &str) -> (u16, Option<String>, Value) {
    let api = t.anonymous();
    let response = api
        .client
        .post(format!("{}/login", api.base))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("HTTP request");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, retry_after, body)
}

// ---------------------------------------------------------------------------------------------
// 1. granting above or beside one's own subtree

#[tokio::test]
async fn an_operator_cannot_grant_a_membership_on_an_ancestor_or_outside_its_subtree() {
    let w = world().await;
    let (op_id, op) = operator_a(&w).await;
    let victim = create_user(&w.admin, "victim", w.a1, &[(w.a1, "support")]).await;
    let mut denied = denied_count(&w.admin, op_id).await;

    let attempts: [(&str, Value); 4] = [
        ("operator on Root (an ancestor)", membership_list(&[(ROOT, "operator")])),
        ("operator on B (outside)", membership_list(&[(w.b, "operator")])),
        (
            "support on Root next to a legal one",
            membership_list(&[(w.a1, "support"), (ROOT, "support")]),
        ),
        (
            "operator on B next to a legal one",
            membership_list(&[(w.a1, "support"), (w.b, "operator")]),
        ),
    ];
    for (what, list) in attempts {
        let (status, body) = op.put(&format!("/users/{victim}/memberships"), list).await;
        let what = format!("opA grants victim {what}");
        assert_error(status, &body, 404, "not_found", &what);
        denied = assert_denial_audited(&w.admin, op_id, denied, &what).await;
    }
    assert_eq!(
        memberships_of(&user(&w.admin, victim).await),
        pairs(&[(w.a1, "support")]),
        "a refused PUT changes nothing, not even its legal part"
    );

    // On itself: refused either as a self-edit (403) or as outside its subtree (404).
    for target_org in [ROOT, w.b] {
        let (status, body) = op
            .put(
                &format!("/users/{op_id}/memberships"),
                membership_list(&[(w.a, "operator"), (target_org, "operator")]),
            )
            .await;
        assert!(
            status == 403 || status == 404,
            "opA grants itself operator on {target_org}: expected 403 or 404, got {status} {body}"
        );
        denied = assert_denial_audited(
            &w.admin,
            op_id,
            denied,
            &format!("opA grants itself operator on {target_org}"),
        )
        .await;
    }
    assert_eq!(
        memberships_of(&user(&w.admin, op_id).await),
        pairs(&[(w.a, "operator")])
    );
    // Its token still reaches nothing above A.
    let (status, body) = op.get(&format!("/organisations/{ROOT}")).await;
    assert_error(status, &body, 404, "not_found", "opA reads Root");

    // Control: the same call inside its subtree works.
    let (status, body) = op
        .put(
            &format!("/users/{victim}/memberships"),
            membership_list(&[(w.a1, "maintenance")]),
        )
        .await;
    assert_eq!(status, 200, "opA sets a legal membership: {body}");
}

// ---------------------------------------------------------------------------------------------
// 2. editing one's own memberships

#[tokio::test]
async fn an_operator_cannot_edit_its_own_memberships() {
    let w = world().await;
    let (op_id, op) = operator_a(&w).await;
    let mut denied = denied_count(&w.admin, op_id).await;

    let attempts: [(&str, Value); 3] = [
        ("the same list", membership_list(&[(w.a, "operator")])),
        (
            "an extra role",
            membership_list(&[(w.a, "operator"), (w.a1, "support")]),
        ),
        ("nothing", json!([])),
    ];
    for (what, list) in attempts {
        let (status, body) = op.put(&format!("/users/{op_id}/memberships"), list).await;
        let what = format!("opA sets its own memberships to {what}");
        assert_error(status, &body, 403, "forbidden", &what);
        denied = assert_denial_audited(&w.admin, op_id, denied, &what).await;
    }
    assert_eq!(
        memberships_of(&user(&w.admin, op_id).await),
        pairs(&[(w.a, "operator")])
    );
}

// ---------------------------------------------------------------------------------------------
// 3. creating organisations outside or above

#[tokio::test]
async fn an_operator_cannot_create_an_organisation_outside_or_above_its_subtree() {
    let w = world().await;
    let (op_id, op) = operator_a(&w).await;
    let mut denied = denied_count(&w.admin, op_id).await;

    for (parent, name) in [(w.b, "evil-under-B"), (ROOT, "evil-under-root")] {
        let (status, body) = op
            .post("/organisations", json!({"name": name, "parent_id": parent}))
            .await;
        let what = format!("opA creates {name}");
        assert_error(status, &body, 404, "not_found", &what);
        denied = assert_denial_audited(&w.admin, op_id, denied, &what).await;
    }
    let (status, body) = w.admin.get("/organisations?limit=500").await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body
        .as_array()
        .expect("organisation list")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert!(
        !names.iter().any(|n| n.starts_with("evil")),
        "refused organisations exist: {names:?}"
    );

    // Control: below its own subtree it may.
    let (status, body) = op
        .post("/organisations", json!({"name": "fine", "parent_id": w.a1}))
        .await;
    assert_eq!(status, 201, "opA creates below A1: {body}");
}

// ---------------------------------------------------------------------------------------------
// 4. non-operators managing users

#[tokio::test]
async fn maintenance_and_support_cannot_create_users_or_set_memberships() {
    let w = world().await;
    let victim = create_user(&w.admin, "victim", w.a1, &[(w.a1, "fleet_manager")]).await;

    for role in ["maintenance", "support"] {
        let name = format!("u-{role}");
        let id = create_user(&w.admin, &name, w.a, &[(w.a, role)]).await;
        let api = w.t.login(&name, PASSWORD).await;
        let mut denied = denied_count(&w.admin, id).await;

        let (status, body) = api
            .post(
                "/users",
                json!({"username": format!("{role}-minion"), "password": PASSWORD, "organisation_id": w.a}),
            )
            .await;
        let what = format!("{role} creates a user");
        assert_error(status, &body, 403, "forbidden", &what);
        denied = assert_denial_audited(&w.admin, id, denied, &what).await;

        let (status, body) = api
            .put(
                &format!("/users/{victim}/memberships"),
                membership_list(&[(w.a1, "operator")]),
            )
            .await;
        let what = format!("{role} makes victim an operator");
        assert_error(status, &body, 403, "forbidden", &what);
        denied = assert_denial_audited(&w.admin, id, denied, &what).await;

        let (status, body) = api
            .put(
                &format!("/users/{id}/memberships"),
                membership_list(&[(w.a, "operator")]),
            )
            .await;
        let what = format!("{role} makes itself an operator");
        assert_error(status, &body, 403, "forbidden", &what);
        assert_denial_audited(&w.admin, id, denied, &what).await;

        assert_eq!(memberships_of(&user(&w.admin, id).await), pairs(&[(w.a, role)]));
    }

    assert_eq!(
        memberships_of(&user(&w.admin, victim).await),
        pairs(&[(w.a1, "fleet_manager")])
    );
    let (status, body) = w.admin.get("/users?limit=500").await;
    assert_eq!(status, 200, "{body}");
    let names: Vec<&str> = body
        .as_array()
        .expect("user list")
        .iter()
        .filter_map(|u| u["username"].as_str())
        .collect();
    assert!(
        !names.iter().any(|n| n.ends_with("-minion")),
        "refused users exist: {names:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. disabling cuts a session at once

#[tokio::test]
async fn a_disabled_users_token_stops_working_at_once_and_it_cannot_log_in() {
    let w = world().await;
    let u = create_user(&w.admin, "u", w.a1, &[(w.a1, "operator")]).await;
    let session = w.t.login("u", PASSWORD).await;
    let (status, body) = session.get("/me").await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = w.admin.patch(&format!("/users/{u}"), json!({"disabled": true})).await;
    assert_eq!(status, 200, "admin disables u: {body}");

    for path in ["/me", "/organisations", "/users"] {
        let (status, body) = session.get(path).await;
        assert_error(
            status,
            &body,
            401,
            "unauthenticated",
            &format!("disabled u: GET {path}"),
        );
    }
    let (status, body) =
        w.t.anonymous()
            .post("/login", json!({"username": "u", "password": PASSWORD}))
            .await;
    assert_error(status, &body, 401, "invalid_credentials", "disabled u logs in");
    assert!(body.get("token").is_none(), "no token for a disabled user: {body}");
}

// ---------------------------------------------------------------------------------------------
// 6. deleting cuts a session at once

#[tokio::test]
async fn a_deleted_users_token_stops_working() {
    let w = world().await;
    let u = create_user(&w.admin, "u", w.a1, &[(w.a1, "operator")]).await;
    let session = w.t.login("u", PASSWORD).await;
    let (status, body) = session.get("/me").await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = w.admin.delete(&format!("/users/{u}")).await;
    assert_eq!(status, 204, "admin deletes u: {body}");

    let (status, body) = session.get("/me").await;
    assert_error(status, &body, 401, "unauthenticated", "deleted u: GET /me");
    let (status, body) =
        w.t.anonymous()
            .post("/login", json!({"username": "u", "password": PASSWORD}))
            .await;
    assert_error(status, &body, 401, "invalid_credentials", "deleted u logs in");
}

// ---------------------------------------------------------------------------------------------
// 7. logout

#[tokio::test]
async fn logout_revokes_the_token_used_and_only_that_one() {
    let t = TestServer::start().await;
    let first = t.admin().await;
    let second = t.admin().await;
    assert_ne!(first.token, second.token, "each login has its own token");

    let (status, body) = first.send(Method::POST, "/logout", None).await;
    assert_eq!(status, 204, "logout: {body}");

    let (status, body) = first.get("/me").await;
    assert_error(status, &body, 401, "unauthenticated", "GET /me after logout");
    let (status, body) = first.send(Method::POST, "/logout", None).await;
    assert_error(status, &body, 401, "unauthenticated", "logout twice");

    let (status, body) = second.get("/me").await;
    assert_eq!(status, 200, "the other session lives on: {body}");
}

// ---------------------------------------------------------------------------------------------
// 8. expiry

#[tokio::test]
async fn an_expired_token_answers_401() {
    let t = TestServer::start_with(|c| c.api.token_ttl_s = 1).await;
    let admin = t.admin().await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, body) = admin.get("/me").await;
    assert_error(status, &body, 401, "unauthenticated", "GET /me with an expired token");
    let (status, body) = admin.get("/organisations").await;
    assert_error(
        status,
        &body,
        401,
        "unauthenticated",
        "GET /organisations with an expired token",
    );
}

// ---------------------------------------------------------------------------------------------
// 9. no user enumeration through login

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let t = TestServer::start().await;
    let anonymous = t.anonymous();
    let (wrong_status, wrong_body) = anonymous
        .post("/login", json!({"username": "admin", "password": "not-the-password"}))
        .await;
    let (unknown_status, unknown_body) = anonymous
        .post(
            "/login",
            json!({"username": "nobody-here", "password": "not-the-password"}),
        )
        .await;
    assert_error(wrong_status, &wrong_body, 401, "invalid_credentials", "wrong password");
    assert_eq!(unknown_status, wrong_status, "unknown user: {unknown_body}");
    assert_eq!(
        unknown_body, wrong_body,
        "the unknown-user answer must be identical to the wrong-password one"
    );
}

// ---------------------------------------------------------------------------------------------
// 10. users outside the subtree, and memberships outside it kept

#[tokio::test]
async fn an_operator_cannot_touch_users_of_another_subtree_and_keeps_their_foreign_memberships() {
    let w = world().await;
    let (op_id, op) = operator_a(&w).await;
    let mut denied = denied_count(&w.admin, op_id).await;

    // A user living in B.
    let in_b = create_user(&w.admin, "in-b", w.b, &[(w.b, "support")]).await;
    let (status, body) = op
        .put(
            &format!("/users/{in_b}/memberships"),
            membership_list(&[(w.a1, "support")]),
        )
        .await;
    assert_error(status, &body, 404, "not_found", "opA sets memberships of a B user");
    assert_denial_audited(&w.admin, op_id, denied, "opA sets memberships of a B user").await;

    let (status, body) = op.get(&format!("/users/{in_b}")).await;
    assert_error(status, &body, 404, "not_found", "opA reads a B user");
    denied = denied_count(&w.admin, op_id).await;

    let (status, body) = op.patch(&format!("/users/{in_b}"), json!({"disabled": true})).await;
    assert_error(status, &body, 404, "not_found", "opA disables a B user");
    denied = assert_denial_audited(&w.admin, op_id, denied, "opA disables a B user").await;

    let (status, body) = op
        .patch(&format!("/users/{in_b}"), json!({"password": "taken-over-password-1"}))
        .await;
    assert_error(status, &body, 404, "not_found", "opA resets a B user's password");
    denied = assert_denial_audited(&w.admin, op_id, denied, "opA resets a B user's password").await;

    let (status, body) = op.delete(&format!("/users/{in_b}")).await;
    assert_error(status, &body, 404, "not_found", "opA deletes a B user");
    assert_denial_audited(&w.admin, op_id, denied, "opA deletes a B user").await;

    let after = user(&w.admin, in_b).await;
    assert_eq!(memberships_of(&after), pairs(&[(w.b, "support")]));
    assert_ne!(after["disabled"], json!(true), "{after}");
    w.t.login("in-b", PASSWORD).await; // password unchanged, account usable

    // A user of A1 who also works for B: opA replaces the A side only.
    let shared = create_user(&w.admin, "shared", w.a1, &[(w.a, "support"), (w.b, "maintenance")]).await;
    let (status, body) = op
        .put(
            &format!("/users/{shared}/memberships"),
            membership_list(&[(w.a1, "maintenance")]),
        )
        .await;
    assert_eq!(status, 200, "opA replaces the A memberships of shared: {body}");
    assert_eq!(
        memberships_of(&user(&w.admin, shared).await),
        pairs(&[(w.a1, "maintenance"), (w.b, "maintenance")]),
        "the B membership is kept, the A one replaced"
    );

    // Even an empty list only clears what opA may manage.
    let (status, body) = op.put(&format!("/users/{shared}/memberships"), json!([])).await;
    assert_eq!(status, 200, "opA clears the A memberships of shared: {body}");
    assert_eq!(
        memberships_of(&user(&w.admin, shared).await),
        pairs(&[(w.b, "maintenance")])
    );
}

// ---------------------------------------------------------------------------------------------
// 11. no self-disable, no self-delete

#[tokio::test]
async fn an_operator_cannot_disable_or_delete_itself() {
    let w = world().await;
    let (op_id, op) = operator_a(&w).await;
    let mut denied = denied_count(&w.admin, op_id).await;

    let (status, body) = op.patch(&format!("/users/{op_id}"), json!({"disabled": true})).await;
    assert_error(status, &body, 403, "forbidden", "opA disables itself");
    denied = assert_denial_audited(&w.admin, op_id, denied, "opA disables itself").await;

    let (status, body) = op.delete(&format!("/users/{op_id}")).await;
    assert_error(status, &body, 403, "forbidden", "opA deletes itself");
    assert_denial_audited(&w.admin, op_id, denied, "opA deletes itself").await;

    let (status, body) = op.get("/me").await;
    assert_eq!(status, 200, "opA is still there: {body}");
    assert_ne!(user(&w.admin, op_id).await["disabled"], json!(true));
}

// ---------------------------------------------------------------------------------------------
// 12. login throttling

#[tokio::test]
async fn repeated_wrong_passwords_for_one_user_are_throttled_with_retry_after() {
    let w = world().await;
    create_user(&w.admin, "target", w.a1, &[(w.a1, "support")]).await;

    for attempt in 1..=5 {
        let (status, _, body) = raw_login(&w.t, "target", "guess-wrong-password").await;
        assert_error(
            status,
            &body,
            401,
            "invalid_credentials",
            &format!("wrong password #{attempt}"),
        );
    }
    let (status, retry_after, body) = raw_login(&w.t, "target", "guess-wrong-password").await;
    assert_error(status, &body, 429, "too_many_attempts", "wrong password #6");
    let seconds: u64 = retry_after
        .as_deref()
        .unwrap_or_else(|| panic!("429 without Retry-After: {body}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("Retry-After {retry_after:?} in seconds: {e}"));
    assert!(seconds > 0, "Retry-After {seconds}");

    // While throttled even the right password gets no token (or guessing would go on).
    let (status, _, body) = raw_login(&w.t, "target", PASSWORD).await;
    assert_error(
        status,
        &body,
        429,
        "too_many_attempts",
        "right password while throttled",
    );

    // The throttle is per user name: others from the same address still log in.
    let (status, _, body) = raw_login(&w.t, "admin", common::ADMIN_PASSWORD).await;
    assert_eq!(status, 200, "admin logs in while target is throttled: {body}");
}

#[tokio::test]
async fn an_operator_below_cannot_take_over_an_account_that_ranks_above_it() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = create_org(&admin, "A", 1).await;
    let a1 = create_org(&admin, "A1", a).await;
    // Homed in A1 (so A1's operator manages it) but operator of A, above A1.
    let boss = create_user(&admin, "boss", a1, &[(a, "operator")]).await;
    let lower = create_user(&admin, "lower-op", a1, &[(a1, "operator")]).await;
    let lower_api = t.login("lower-op", PASSWORD).await;
    let boss_api = t.login("boss", PASSWORD).await;

    // It may look, not seize: password, disabling, deleting, reset links, 2FA, sessions.
    assert_eq!(lower_api.get(&format!("/users/{boss}")).await.0, 200);
    let attempts = [
        (
            reqwest::Method::PATCH,
            format!("/users/{boss}"),
            Some(json!({"password": "Seized-account-7731"})),
        ),
        (
            reqwest::Method::PATCH,
            format!("/users/{boss}"),
            Some(json!({"disabled": true})),
        ),
        (reqwest::Method::DELETE, format!("/users/{boss}"), None),
        (
            reqwest::Method::POST,
            format!("/users/{boss}/password-reset"),
            Some(json!({})),
        ),
        (reqwest::Method::DELETE, format!("/users/{boss}/2fa"), None),
        (reqwest::Method::DELETE, format!("/users/{boss}/sessions"), None),
    ];
    let before = denied_count(&admin, lower).await;
    for (method, path, body) in attempts {
        let (status, answer) = lower_api.send(method.clone(), &path, body).await;
        assert_eq!(status, 403, "{method} {path}: {answer}");
    }
    assert_denial_audited(&admin, lower, before, "takeover attempts").await;
    assert_eq!(boss_api.get("/me").await.0, 200, "the boss's session survived");
    assert_eq!(t.login("boss", PASSWORD).await.get("/me").await.0, 200);

    // The operator above may.
    let (status, _) = admin.post(&format!("/users/{boss}/password-reset"), json!({})).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn an_operator_bound_by_require_2fa_cannot_lift_it_for_itself() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = create_org(&admin, "A", 1).await;
    create_user(&admin, "a-op", a, &[(a, "operator")]).await;
    let (status, _) = admin
        .patch(&format!("/organisations/{a}"), json!({"require_2fa": true}))
        .await;
    assert_eq!(status, 200);
    // The operator of A logs in with an enrolment-only token, so it cannot even try; with a
    // session opened before the requirement it still cannot switch it off.
    let (status, body) = admin
        .patch(&format!("/organisations/{a}"), json!({"require_2fa": false}))
        .await;
    assert_eq!(status, 200, "the operator above may lift it: {body}");
    let (_, body) = admin
        .patch(&format!("/organisations/{a}"), json!({"require_2fa": false}))
        .await;
    assert_eq!(body["require_2fa"], json!(false));

    let a_op = t.login("a-op", PASSWORD).await;
    let (status, _) = admin
        .patch(&format!("/organisations/{a}"), json!({"require_2fa": true}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = a_op
        .patch(&format!("/organisations/{a}"), json!({"require_2fa": false}))
        .await;
    assert_eq!(status, 403, "{body}");
    let (_, org) = admin.get(&format!("/organisations/{a}")).await;
    assert_eq!(org["require_2fa"], json!(true));
}
