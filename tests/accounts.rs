//! System users as real platforms have them, over real HTTP: invitations mailed through a real
//! SMTP conversation, TOTP two-factor (enrolment, replay, recovery codes, inherited
//! `require_2fa`), login throttling, and sessions that end at once.

mod common;

use std::time::Duration;

use common::mail::smtp_sink;
use common::{ADMIN_PASSWORD, Api, TestServer};
use serde_json::{Value, json};
use totp_rs::{Secret, Totp};

const ROOT: i64 = 1;
const PASSWORD: &str = "Kestrel-harbour-4417";
const NEW_PASSWORD: &str = "Lantern-quarry-9082";

// ---------------------------------------------------------------------------------------------
// helpers

fn totp(secret: &str) -> Totp {
    totp_rs::Builder::new()
        .with_secret(Secret::try_from_base32(secret).expect("base32 secret"))
        .build()
        .expect("totp")
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// The code of the next 30 s step: always later than any step used so far in a test that
/// takes less than half a minute between codes, so it is never a replay.
fn next_code(secret: &str) -> String {
    totp(secret).generate(now() + 30).to_string()
}

/// A six-digit code valid in none of the accepted steps.
fn wrong_code(secret: &str) -> String {
    let t = totp(secret);
    let valid: Vec<String> = (0..4).map(|i| t.generate(now() + i * 30 - 30).to_string()).collect();
    (0..10)
        .map(|d| format!("12345{d}"))
        .find(|c| !valid.contains(c))
        .expect("a wrong code")
}

async fn create_org(admin: &Api, name: &str, parent: i64) -> i64 {
    let (status, body) = admin
        .post("/organisations", json!({"name": name, "parent_id": parent}))
        .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().expect("id")
}

/// A user homed in `org` with `role` there, password [`PASSWORD`].
async fn create_user(admin: &Api, name: &str, org: i64, role: &str) -> i64 {
    let (status, body) = admin
        .post(
            "/users",
            json!({"username": name, "password": PASSWORD, "organisation_id": org}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().expect("id");
    let (status, body) = admin
        .put(
            &format!("/users/{id}/memberships"),
            json!([{"organisation_id": org, "role": role}]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    id
}

async fn login(t: &TestServer, username: &str, password: &str, otp: Option<&str>) -> (u16, Value) {
    t.anonymous()
        .post(
            "/login",
            json!({"username": username, "password": password, "otp": otp}),
        )
        .await
}

fn token_of(t: &TestServer, body: &Value) -> Api {
    t.anonymous().with_token(body["token"].as_str().expect("token"))
}

/// Enrols `api`'s user and confirms with a first code; returns the secret and recovery codes.
async fn enrol(api: &Api) -> (String, Vec<String>) {
    let (status, body) = api.post("/me/2fa", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let secret = body["secret"].as_str().expect("secret").to_owned();
    let uri = body["otpauth_uri"].as_str().expect("uri");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(
        body["qr_svg"].as_str().expect("svg").contains("<svg"),
        "QR code is an SVG"
    );
    let (status, body) = api
        .post(
            "/me/2fa/confirm",
            json!({"otp": totp(&secret).generate(now()).to_string()}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let codes: Vec<String> = body["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

// ---------------------------------------------------------------------------------------------
// invitations

#[tokio::test]
async fn an_invited_user_sets_its_password_through_the_mailed_link_and_logs_in() {
    let (port, mut mails) = smtp_sink().await;
    let t = TestServer::start_with(|c| {
        c.api.public_url = "https://cs.example.test".into();
        c.smtp = Some(
            serde_json::from_value(json!({
                "host": "127.0.0.1", "port": port, "tls": "none",
                "from": "voltgate <noreply@example.test>"
            }))
            .expect("smtp config"),
        );
    })
    .await;
    let admin = t.admin().await;

    let (status, body) = admin
        .post(
            "/users",
            json!({"username": "ines", "email": "ines@example.test", "organisation_id": ROOT}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["has_password"], json!(false));
    let invitation = &body["invitation"];
    assert_eq!(invitation["emailed"], json!(true), "{body}");
    let url = invitation["url"].as_str().expect("url").to_owned();
    let token = invitation["token"].as_str().expect("token").to_owned();
    assert_eq!(url, format!("https://cs.example.test/invitations/{token}"));

    let mail = tokio::time::timeout(Duration::from_secs(10), mails.recv())
        .await
        .expect("mail within 10 s")
        .expect("a mail");
    // Undo quoted-printable soft line breaks, should the encoder have used them.
    let unfolded = mail.replace("=\n", "");
    assert!(unfolded.contains(&url), "the mail holds the link: {mail}");
    assert!(mail.contains("To: ines@example.test"), "{mail}");

    // Before a password is set, nobody logs in as the user.
    let (status, _) = login(&t, "ines", "", None).await;
    assert_eq!(status, 401);

    // The page behind the link, and what it asks the API.
    let page = reqwest::get(format!("http://{}/invitations/{token}", t.server().api_addr))
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("Choose your password"));
    let anon = t.anonymous();
    let (status, info) = anon.get(&format!("/invitations/{token}")).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["username"], json!("ines"));
    assert_eq!(info["purpose"], json!("invite"));

    // The policy holds here too.
    for weak in ["short", "password1234", "ines12345678"] {
        let (status, body) = anon
            .post(&format!("/invitations/{token}"), json!({"password": weak}))
            .await;
        assert_eq!(status, 422, "{weak}: {body}");
        assert_eq!(body["field"], json!("password"));
    }
    let (status, body) = anon
        .post(&format!("/invitations/{token}"), json!({"password": PASSWORD}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = login(&t, "ines", PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");

    // Used once: gone.
    let (status, body) = anon
        .post(&format!("/invitations/{token}"), json!({"password": NEW_PASSWORD}))
        .await;
    assert_eq!(
        (status, body["error"].clone()),
        (410, json!("invitation_gone")),
        "{body}"
    );
    let (status, _) = anon.get(&format!("/invitations/{token}")).await;
    assert_eq!(status, 410);
    let (status, _) = anon
        .post("/invitations/no-such-token", json!({"password": NEW_PASSWORD}))
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn an_expired_invitation_answers_410_and_without_smtp_the_link_is_still_returned() {
    let t = TestServer::start_with(|c| c.accounts.invitation_ttl_s = 1).await;
    let admin = t.admin().await;
    let (status, body) = admin
        .post("/users", json!({"username": "late", "email": "late@example.test"}))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["invitation"]["emailed"], json!(false));
    assert_eq!(body["invitation"]["email_error"], json!("no SMTP relay configured"));
    let token = body["invitation"]["token"].as_str().expect("token").to_owned();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = t
        .anonymous()
        .post(&format!("/invitations/{token}"), json!({"password": PASSWORD}))
        .await;
    assert_eq!(
        (status, body["error"].clone()),
        (410, json!("invitation_gone")),
        "{body}"
    );
}

#[tokio::test]
async fn a_password_reset_link_sets_a_new_password_and_ends_every_session() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let id = create_user(&admin, "rolf", ROOT, "support").await;
    let rolf = t.login("rolf", PASSWORD).await;

    let (status, body) = admin.post(&format!("/users/{id}/password-reset"), json!({})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["purpose"], json!("reset"));
    let token = body["token"].as_str().expect("token").to_owned();
    // A second link voids the first.
    let (_, second) = admin.post(&format!("/users/{id}/password-reset"), json!({})).await;
    let (status, _) = t
        .anonymous()
        .post(&format!("/invitations/{token}"), json!({"password": NEW_PASSWORD}))
        .await;
    assert_eq!(status, 410, "the older link is void");

    let second = second["token"].as_str().expect("token");
    let (status, body) = t
        .anonymous()
        .post(&format!("/invitations/{second}"), json!({"password": NEW_PASSWORD}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rolf.get("/me").await.0, 401, "sessions ended");
    assert_eq!(login(&t, "rolf", PASSWORD, None).await.0, 401);
    assert_eq!(login(&t, "rolf", NEW_PASSWORD, None).await.0, 200);
}

// ---------------------------------------------------------------------------------------------
// two-factor

#[tokio::test]
async fn two_factor_enrolment_login_replay_and_recovery_codes() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    create_user(&admin, "tove", ROOT, "maintenance").await;
    let tove = t.login("tove", PASSWORD).await;

    // Confirming needs a right code; until confirmed, login needs none.
    let (status, body) = tove.post("/me/2fa", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let secret = body["secret"].as_str().expect("secret").to_owned();
    let (status, body) = tove.post("/me/2fa/confirm", json!({"otp": wrong_code(&secret)})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(login(&t, "tove", PASSWORD, None).await.0, 200);
    let (status, status_body) = tove.get("/me/2fa").await;
    assert_eq!((status, status_body["pending"].clone()), (200, json!(true)));

    let (secret, codes) = enrol(&tove).await;
    assert_eq!(tove.post("/me/2fa", json!({})).await.0, 409, "already on");
    let (_, me) = tove.get("/me").await;
    assert_eq!(me["two_factor"], json!(true));

    // Without, with a wrong, with a right code.
    let (status, body) = login(&t, "tove", PASSWORD, None).await;
    assert_eq!((status, body["error"].clone()), (401, json!("otp_required")), "{body}");
    let (status, body) = login(&t, "tove", PASSWORD, Some(&wrong_code(&secret))).await;
    assert_eq!((status, body["error"].clone()), (401, json!("invalid_otp")), "{body}");
    // A right code with a wrong password tells nothing about the code.
    let code = next_code(&secret);
    let (status, body) = login(&t, "tove", "not-the-password", Some(&code)).await;
    assert_eq!((status, body["error"].clone()), (401, json!("invalid_credentials")));
    let (status, body) = login(&t, "tove", PASSWORD, Some(&code)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], json!("full"));

    // The same code again, and the confirmation's code: both replays.
    let (status, body) = login(&t, "tove", PASSWORD, Some(&code)).await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("invalid_otp")),
        "replay: {body}"
    );

    // A recovery code works once, typed any way.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let (status, body) = login(&t, "tove", PASSWORD, Some(&typed)).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = login(&t, "tove", PASSWORD, Some(&codes[0])).await;
    assert_eq!(status, 401, "a recovery code is single use");
    let (_, st) = tove.get("/me/2fa").await;
    assert_eq!(st["recovery_codes_left"], json!(9));

    // Turning it off needs the password and a code.
    let (status, _) = tove
        .post("/me/2fa/disable", json!({"password": "wrong", "otp": codes[1]}))
        .await;
    assert_eq!(status, 401);
    let (status, body) = tove
        .post("/me/2fa/disable", json!({"password": PASSWORD, "otp": codes[1]}))
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(login(&t, "tove", PASSWORD, None).await.0, 200);
}

#[tokio::test]
async fn inherited_require_2fa_forces_enrolment_before_anything_else() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let fleet = create_org(&admin, "Fleet", ROOT).await;
    let depot = create_org(&admin, "Depot", fleet).await;
    let elsewhere = create_org(&admin, "Elsewhere", ROOT).await;
    let depot_user = create_user(&admin, "dora", depot, "support").await;
    create_user(&admin, "edgar", elsewhere, "support").await;
    let dora_before = t.login("dora", PASSWORD).await;

    let (status, body) = admin
        .patch(&format!("/organisations/{fleet}"), json!({"require_2fa": true}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["require_2fa"], json!(true));
    // The child cannot lift its parent's requirement.
    let (status, _) = admin
        .patch(&format!("/organisations/{depot}"), json!({"require_2fa": false}))
        .await;
    assert_eq!(status, 200);

    // Outside the subtree nothing changes.
    let (_, body) = login(&t, "edgar", PASSWORD, None).await;
    assert_eq!(body["scope"], json!("full"));

    // Inside it, the token may only enrol.
    let (status, body) = login(&t, "dora", PASSWORD, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], json!("enrol_2fa"));
    let dora = token_of(&t, &body);
    let (status, body) = dora.get("/chargers").await;
    assert_eq!(
        (status, body["error"].clone()),
        (403, json!("enrolment_required")),
        "{body}"
    );
    assert_eq!(dora.get("/me/sessions").await.0, 403);
    assert_eq!(dora.get("/me").await.0, 200);
    let (_, st) = dora.get("/me/2fa").await;
    assert_eq!(st["required_by"], json!(fleet));

    // Enrolled, the same session becomes a full one.
    let (secret, codes) = enrol(&dora).await;
    assert_eq!(dora.get("/chargers").await.0, 200);
    // While required, it cannot be turned off.
    let (status, _) = dora
        .post("/me/2fa/disable", json!({"password": PASSWORD, "otp": codes[0]}))
        .await;
    assert_eq!(status, 403);
    let (status, _) = login(&t, "dora", PASSWORD, Some(&next_code(&secret))).await;
    assert_eq!(status, 200);

    // An operator resets it (lost phone): sessions end, the next login must enrol again.
    let (status, body) = admin.delete(&format!("/users/{depot_user}/2fa")).await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(dora.get("/me").await.0, 401);
    assert_eq!(dora_before.get("/me").await.0, 401);
    let (_, body) = login(&t, "dora", PASSWORD, None).await;
    assert_eq!(body["scope"], json!("enrol_2fa"));

    // Nobody resets their own.
    let (status, _) = admin.delete("/users/1/2fa").await;
    assert_eq!(status, 403);
}

// ---------------------------------------------------------------------------------------------
// throttling and revocation

#[tokio::test]
async fn repeated_failures_get_429_with_retry_after_and_the_lock_lifts_after_the_window() {
    let t = TestServer::start_with(|c| {
        c.accounts.login_window_s = 2;
        c.accounts.login_failures_per_user = 3;
    })
    .await;
    let url = format!("{}/login", t.api_base());
    let client = reqwest::Client::new();
    let attempt = |password: &'static str| {
        client
            .post(&url)
            .json(&json!({"username": "admin", "password": password}))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(attempt("wrong-password").await.expect("send").status(), 401);
    }
    let locked = attempt(ADMIN_PASSWORD).await.expect("send");
    assert_eq!(locked.status(), 429, "even the right password waits");
    let retry: u64 = locked
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    let body: Value = locked.json().await.expect("json");
    assert_eq!(body["error"], json!("too_many_attempts"));

    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(attempt(ADMIN_PASSWORD).await.expect("send").status(), 200);
}

#[tokio::test]
async fn one_address_spraying_many_user_names_is_throttled_too() {
    let t = TestServer::start_with(|c| {
        c.accounts.login_window_s = 2;
        c.accounts.login_failures_per_user = 100;
        c.accounts.login_failures_per_address = 4;
    })
    .await;
    let url = format!("{}/login", t.api_base());
    let client = reqwest::Client::new();
    for i in 0..4 {
        let answer = client
            .post(&url)
            .json(&json!({"username": format!("guess-{i}"), "password": "wrong-password"}))
            .send()
            .await
            .expect("send");
        assert_eq!(answer.status(), 401, "attempt {i}");
    }
    let locked = client
        .post(&url)
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("send");
    assert_eq!(locked.status(), 429, "the address is locked, whatever the user name");
    assert!(locked.headers().contains_key("retry-after"));
    // The console's login form answers the same, with the same Retry-After.
    let page = client
        .get(format!("http://{}/login", t.server().api_addr))
        .send()
        .await
        .expect("send");
    let cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = cookie.trim_start_matches("voltgate_login=").to_owned();
    let form = client
        .post(format!("http://{}/login", t.server().api_addr))
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&username=admin&password={ADMIN_PASSWORD}"))
        .send()
        .await
        .expect("send");
    assert_eq!(form.status(), 429);
    assert!(form.headers().contains_key("retry-after"));

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let answer = client
        .post(&url)
        .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
        .send()
        .await
        .expect("send");
    assert_eq!(answer.status(), 200, "the lock lifts after the window");
}

#[tokio::test]
async fn logout_password_change_and_disabling_end_sessions_at_once() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let id = create_user(&admin, "sven", ROOT, "support").await;

    // Logout ends that session only.
    let first = t.login("sven", PASSWORD).await;
    let second = t.login("sven", PASSWORD).await;
    assert_eq!(first.post("/logout", json!({})).await.0, 204);
    assert_eq!(first.get("/me").await.0, 401);
    assert_eq!(second.get("/me").await.0, 200);

    // Sessions: the caller's own, marked current; ending another one of its own.
    let third = t.login("sven", PASSWORD).await;
    let (status, list) = second.get("/me/sessions").await;
    assert_eq!(status, 200, "{list}");
    let list = list.as_array().expect("list").clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == json!(true)).count(), 1);
    assert!(list.iter().all(|s| s["address"] == json!("127.0.0.1")));
    let other = list.iter().find(|s| s["current"] == json!(false)).expect("other");
    let (status, _) = second.delete(&format!("/me/sessions/{}", other["id"])).await;
    assert_eq!(status, 204);
    assert_eq!(third.get("/me").await.0, 401);
    // Someone else's session id is not found.
    let (_, admin_sessions) = admin.get("/me/sessions").await;
    let admin_session = admin_sessions[0]["id"].clone();
    assert_eq!(second.delete(&format!("/me/sessions/{admin_session}")).await.0, 404);

    // A password change keeps the session that made it and ends the others.
    let fourth = t.login("sven", PASSWORD).await;
    let (status, body) = second
        .post(
            "/me/password",
            json!({"current_password": "wrong", "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!((status, body["field"].clone()), (422, json!("current_password")));
    let (status, body) = second
        .post(
            "/me/password",
            json!({"current_password": PASSWORD, "new_password": "sven12345678"}),
        )
        .await;
    assert_eq!(status, 422, "own name: {body}");
    let (status, body) = second
        .post(
            "/me/password",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(second.get("/me").await.0, 200);
    assert_eq!(fourth.get("/me").await.0, 401);

    // An operator sees and ends them; disabling ends them too.
    let (status, list) = admin.get(&format!("/users/{id}/sessions")).await;
    assert_eq!((status, list.as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!(admin.delete(&format!("/users/{id}/sessions")).await.0, 204);
    assert_eq!(second.get("/me").await.0, 401);
    let fifth = t.login("sven", NEW_PASSWORD).await;
    let (status, _) = admin.patch(&format!("/users/{id}"), json!({"disabled": true})).await;
    assert_eq!(status, 200);
    assert_eq!(fifth.get("/me").await.0, 401);
    assert_eq!(login(&t, "sven", NEW_PASSWORD, None).await.0, 401);
}

/// With two-factor on, changing one's own password or e-mail also needs a fresh code, on
/// every path: a stolen token and a phished password are not enough.
#[tokio::test]
async fn own_credential_changes_need_a_second_factor_when_it_is_on() {
    let t = TestServer::start().await;
    let admin = t.admin().await;
    let id = create_user(&admin, "ulla", ROOT, "operator").await;
    let ulla = t.login("ulla", PASSWORD).await;
    let (_, codes) = enrol(&ulla).await;
    let own = format!("/users/{id}");
    let (status, body) = ulla
        .patch(&own, json!({"email": "ulla@example.com", "current_password": PASSWORD}))
        .await;
    assert_eq!((status, body["error"].clone()), (401, json!("otp_required")), "{body}");
    let (status, body) = ulla
        .patch(
            &own,
            json!({"email": "ulla@example.com", "current_password": PASSWORD, "otp": "000000"}),
        )
        .await;
    assert_eq!((status, body["error"].clone()), (401, json!("invalid_otp")), "{body}");
    let (status, body) = ulla
        .post(
            "/me/password",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!((status, body["error"].clone()), (401, json!("otp_required")), "{body}");
    let (status, body) = ulla
        .patch(
            &own,
            json!({"email": "ulla@example.com", "current_password": PASSWORD, "otp": codes[1]}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = ulla
        .post(
            "/me/password",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "otp": codes[2]}),
        )
        .await;
    assert!((200..300).contains(&status), "{body}");
}
