//! The HTTP API beyond the permission matrix: the organisation tree's consistency rules,
//! validation errors, live charger state, the OpenAPI document and bootstrap.

mod common;

use common::{ADMIN_PASSWORD, TestServer, boot_payload, status_payload};
use serde_json::{Value, json};

async fn org(api: &common::Api, name: &str, parent: i64) -> Value {
    let (status, body) = api
        .post("/organisations", json!({"name": name, "parent_id": parent}))
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

#[tokio::test]
async fn the_tree_stays_consistent_through_moves_and_deletes() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = org(&admin, "A", 1).await;
    let a1 = org(&admin, "A1", a["id"].as_i64().unwrap()).await;
    let a1x = org(&admin, "A1x", a1["id"].as_i64().unwrap()).await;
    let b = org(&admin, "B", 1).await;
    assert_eq!(
        a1x["path"],
        json!(format!("/1/{}/{}/{}/", a["id"], a1["id"], a1x["id"]))
    );

    // A cycle: A below its own grandchild.
    let (status, body) = admin
        .patch(&format!("/organisations/{}", a["id"]), json!({"parent_id": a1x["id"]}))
        .await;
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")), "{body}");
    let (status, _) = admin
        .patch(&format!("/organisations/{}", a["id"]), json!({"parent_id": a["id"]}))
        .await;
    assert_eq!(status, 409, "below itself");

    // Move A1 (with its child) below B: the whole subtree's paths follow.
    let (status, moved) = admin
        .patch(&format!("/organisations/{}", a1["id"]), json!({"parent_id": b["id"]}))
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["parent_id"], b["id"]);
    let (_, child) = admin.get(&format!("/organisations/{}", a1x["id"])).await;
    assert_eq!(
        child["path"],
        json!(format!("/1/{}/{}/{}/", b["id"], a1["id"], a1x["id"]))
    );
    let (_, under_b) = admin.get(&format!("/organisations?organisation_id={}", b["id"])).await;
    assert_eq!(under_b.as_array().map(Vec::len), Some(3), "B, A1, A1x: {under_b}");

    // Deleting a non-empty organisation is refused; an empty one goes.
    let (status, body) = admin.delete(&format!("/organisations/{}", a1["id"])).await;
    assert_eq!(status, 409, "{body}");
    let (status, _) = admin.delete(&format!("/organisations/{}", a1x["id"])).await;
    assert_eq!(status, 204);
    let (status, _) = admin.delete(&format!("/organisations/{}", a1["id"])).await;
    assert_eq!(status, 204);
    let (status, _) = admin.delete("/organisations/1").await;
    assert_eq!(status, 409, "the root stays");
}

#[tokio::test]
async fn an_operator_cannot_move_or_delete_the_organisation_its_membership_is_on() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let a = org(&admin, "A", 1).await;
    let a_id = a["id"].as_i64().unwrap();
    let a1 = org(&admin, "A1", a_id).await;
    let (_, user) = admin
        .post(
            "/users",
            json!({"username": "op-a", "password": "op-a-password", "organisation_id": a_id}),
        )
        .await;
    admin
        .put(
            &format!("/users/{}/memberships", user["id"]),
            json!([{"organisation_id": a_id, "role": "operator"}]),
        )
        .await;
    let op = t.login("op-a", "op-a-password").await;

    assert_eq!(op.delete(&format!("/organisations/{a_id}")).await.0, 403);
    assert_eq!(
        op.patch(&format!("/organisations/{a_id}"), json!({"parent_id": a1["id"]}))
            .await
            .0,
        403
    );
    // Below its own organisation it manages freely.
    let a2 = org(&op, "A2", a_id).await;
    assert_eq!(
        op.patch(&format!("/organisations/{}", a2["id"]), json!({"parent_id": a1["id"]}))
            .await
            .0,
        200
    );
    assert_eq!(op.delete(&format!("/organisations/{}", a2["id"])).await.0, 204);
}

#[tokio::test]
async fn bad_bodies_get_422_naming_the_field() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let cases = [
        ("/organisations", json!({"name": 5, "parent_id": 1}), "name"),
        ("/organisations", json!({"name": "x"}), ""),
        ("/organisations", json!({"name": " ", "parent_id": 1}), "name"),
        ("/users", json!({"username": "u1", "password": "short"}), "password"),
        (
            "/sites",
            json!({"organisation_id": 1, "name": "s", "kind": "castle"}),
            "kind",
        ),
        ("/chargers", json!({"id": "bad/id", "organisation_id": 1}), "id"),
        ("/tickets", json!({"organisation_id": 1, "title": ""}), "title"),
    ];
    for (path, body, field) in cases {
        let (status, answer) = admin.post(path, body.clone()).await;
        assert_eq!(status, 422, "{path} {body}: {answer}");
        assert_eq!(answer["error"], "validation_failed", "{answer}");
        if !field.is_empty() {
            assert_eq!(answer["field"], field, "{path} {body}: {answer}");
        }
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Not JSON at all.
    let response = admin
        .client
        .post(format!("{}/organisations", admin.base))
        .bearer_auth(admin.token.as_deref().unwrap_or_default())
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 422);
    // Malformed path parameter and query.
    assert_eq!(admin.get("/organisations/abc").await.0, 400);
    assert_eq!(admin.get("/organisations?limit=lots").await.0, 400);
    let (status, body) = admin.get("/no-such-endpoint").await;
    assert_eq!((status, body["error"].as_str()), (404, Some("not_found")));
}

#[tokio::test]
async fn chargers_show_live_state_and_deleting_one_disconnects_it() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let (status, created) = admin
        .post("/chargers", json!({"id": "CP-LIVE", "organisation_id": 1}))
        .await;
    assert_eq!(status, 201, "{created}");
    let password = created["password"]
        .as_str()
        .expect("a generated password, shown once")
        .to_owned();
    let (_, again) = admin.get("/chargers/CP-LIVE").await;
    assert!(again.get("password").is_none(), "never shown again: {again}");
    assert_eq!(again["online"], false);
    // A generated password is a random secret: a salted SHA-256, not argon2 (see crypto).
    let store = t.store().clone();
    let hash_of = |id: &'static str| {
        let store = store.clone();
        async move {
            let c = store.charger(id).await.unwrap().expect("registered");
            c.password_hash.expect("a hash")
        }
    };
    assert!(hash_of("CP-LIVE").await.starts_with("$voltgate-sha256$"));

    let mut cp = t.charger("CP-LIVE", "2.0.1", &password).await;
    cp.call_ok("BootNotification", boot_payload("2.0.1")).await;
    cp.call_ok("StatusNotification", status_payload("2.0.1", "Occupied"))
        .await;
    let (_, live) = admin.get("/chargers/CP-LIVE").await;
    assert_eq!(live["online"], true, "{live}");
    assert_eq!(live["ocpp_version"], "2.0.1");
    assert_eq!(live["vendor"], "TestVendor");
    assert_eq!(live["connectors"][0]["status"], "Occupied", "{live}");
    let (_, list) = admin.get("/chargers").await;
    assert_eq!(list[0]["connectors"][0]["status"], "Occupied", "{list}");

    let (status, _) = admin
        .post("/chargers", json!({"id": "CP-LIVE", "organisation_id": 1}))
        .await;
    assert_eq!(status, 409, "duplicate id");

    assert_eq!(admin.delete("/chargers/CP-LIVE").await.0, 204);
    assert!(cp.closed().await.is_some(), "the live connection is closed");
    assert_eq!(admin.get("/chargers/CP-LIVE").await.0, 404);
    let (status, _) = admin
        .post(
            "/chargers",
            json!({"id": "CP-CHOSEN", "organisation_id": 1, "password": "chosen-by-a-person-1"}),
        )
        .await;
    assert_eq!(status, 201);
    assert!(
        hash_of("CP-CHOSEN").await.starts_with("$argon2id$"),
        "a person's choice keeps argon2"
    );
    let mut chosen = t.charger("CP-CHOSEN", "1.6", "chosen-by-a-person-1").await;
    chosen.call_ok("BootNotification", boot_payload("1.6")).await;
}

#[tokio::test]
async fn openapi_document_lists_every_endpoint() {
    let t = TestServer::start().await;
    let response = reqwest::get(format!("http://{}/api/openapi.json", t.server().api_addr))
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().is_some_and(|v| v.starts_with('3')));
    let paths = doc["paths"].as_object().expect("paths");
    for p in [
        "/api/v1/login",
        "/api/v1/logout",
        "/api/v1/me",
        "/api/v1/organisations",
        "/api/v1/organisations/{id}",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/users/{id}/memberships",
        "/api/v1/sites",
        "/api/v1/sites/{id}",
        "/api/v1/chargers",
        "/api/v1/chargers/{id}",
        "/api/v1/tickets",
        "/api/v1/tickets/{id}",
        "/api/v1/tickets/{id}/comments",
        "/api/v1/audit",
    ] {
        assert!(paths.contains_key(p), "{p} missing from the OpenAPI document");
    }
    let reset = &paths["/api/v1/chargers/{id}/reset"]["post"]["responses"];
    for code in ["200", "409", "502", "504"] {
        assert!(reset.get(code).is_some(), "reset documents {code}: {reset}");
    }
    // Every reference points at a schema the document defines.
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(o) => o.iter().for_each(|(k, x)| match (k.as_str(), x) {
                ("$ref", Value::String(r)) => out.push(r),
                _ => refs(x, out),
            }),
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(
        all.contains(&"#/components/schemas/CommandReply"),
        "commands answer a CommandReply"
    );
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").expect("schema reference");
        assert!(doc["components"]["schemas"].get(name).is_some(), "{r} is not defined");
    }
    let health: Value = reqwest::get(format!("http://{}/healthz", t.server().api_addr))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

#[tokio::test]
async fn bootstrap_never_overwrites_the_admin() {
    let mut t = TestServer::start().await;
    t.config.bootstrap.admin_password = Some("a-different-password".into());
    t.restart().await;
    let (status, _) = t
        .anonymous()
        .post(
            "/login",
            json!({"username": "admin", "password": "a-different-password"}),
        )
        .await;
    assert_eq!(status, 401);
    t.login("admin", ADMIN_PASSWORD).await;
    let (_, me) = t.admin().await.get("/me").await;
    assert_eq!(
        me["memberships"],
        json!([{"organisation_id": 1, "role": "operator", "valid_from": null, "valid_until": null, "state": "active"}])
    );
}

#[tokio::test]
async fn tickets_take_comments_and_status_changes() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    t.register("CP-T", "charger-password").await;
    let (status, ticket) = admin
        .post(
            "/tickets",
            json!({"organisation_id": 1, "charger_id": "CP-T", "title": "Cable damaged", "body": "Bay 3"}),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    assert_eq!(ticket["status"], "open");
    let id = ticket["id"].as_i64().unwrap();
    assert_eq!(
        admin
            .post(&format!("/tickets/{id}/comments"), json!({"body": "Engineer booked"}))
            .await
            .0,
        201
    );
    let (_, updated) = admin
        .patch(&format!("/tickets/{id}"), json!({"status": "in_progress"}))
        .await;
    assert_eq!(updated["status"], "in_progress");
    let (_, full) = admin.get(&format!("/tickets/{id}")).await;
    assert_eq!(full["comments"][0]["body"], "Engineer booked", "{full}");
    assert_eq!(
        admin
            .patch(&format!("/tickets/{id}"), json!({"status": "done"}))
            .await
            .0,
        422
    );
}

#[tokio::test]
async fn answers_carry_security_headers_and_oversized_bodies_get_413() {
    let t = TestServer::start().await;
    let client = reqwest::Client::new();
    let base = format!("http://{}", t.server().api_addr);
    for path in ["/api/v1/me", "/healthz", "/api/v1/no-such-thing"] {
        let r = client.get(format!("{base}{path}")).send().await.expect("request");
        let h = r.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(
            h["content-security-policy"], "default-src 'none'; frame-ancestors 'none'",
            "{path}"
        );
        assert!(h.get("access-control-allow-origin").is_none(), "no CORS: {path}");
        assert!(h.get("strict-transport-security").is_none(), "no HSTS over plain HTTP");
    }
    // The invitation page keeps its own policy, which lets its inline script run.
    let page = client
        .get(format!("{base}/invitations/whatever"))
        .send()
        .await
        .expect("page");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(
        csp.contains("script-src 'unsafe-inline'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );

    let huge = "x".repeat(2 * 1024 * 1024);
    let r = client
        .post(format!("{base}/api/v1/login"))
        .header("content-type", "application/json")
        .body(format!("{{\"username\": \"{huge}\", \"password\": \"x\"}}"))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 413);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"], "payload_too_large");
}
