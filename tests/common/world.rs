//! Building an organisation tree and its people through the API, as an operator would: the
//! helpers the access tests share. Every call asserts its status, so a fixture that fails
//! says which one.

use serde_json::{Value, json};

use super::Api;

/// The password of every user these helpers create.
pub const PASSWORD: &str = "access-test-password-1";

/// The integer `id` of a created resource.
pub fn id_of(body: &Value, what: &str) -> i64 {
    body["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{what}: integer `id` in {body}"))
}

/// An organisation below `parent`.
pub async fn create_org(api: &Api, name: &str, parent: i64) -> i64 {
    let (status, body) = api
        .post("/organisations", json!({"name": name, "parent_id": parent}))
        .await;
    assert_eq!(status, 201, "create organisation {name}: {body}");
    id_of(&body, name)
}

/// `[(organisation_id, role)]` as the memberships body.
pub fn membership_list(memberships: &[(i64, &str)]) -> Value {
    Value::Array(
        memberships
            .iter()
            .map(|(o, r)| json!({"organisation_id": o, "role": r}))
            .collect(),
    )
}

/// Creates (as `api`) a user whose home organisation is `org`, with exactly `memberships`,
/// who logs in with [`PASSWORD`].
pub async fn create_user(api: &Api, username: &str, org: i64, memberships: &[(i64, &str)]) -> i64 {
    let (status, body) = api
        .post(
            "/users",
            json!({"username": username, "password": PASSWORD, "organisation_id": org}),
        )
        .await;
    assert_eq!(status, 201, "create user {username}: {body}");
    let id = id_of(&body, username);
    let (status, body) = api
        .put(&format!("/users/{id}/memberships"), membership_list(memberships))
        .await;
    assert_eq!(status, 200, "memberships of {username}: {body}");
    id
}

/// Registers charger `id` in `org` (at `site`, if given) with `password`.
pub async fn register_charger(api: &Api, id: &str, org: i64, site: Option<i64>, password: &str) {
    let (status, body) = api
        .post(
            "/chargers",
            json!({"id": id, "organisation_id": org, "site_id": site, "password": password}),
        )
        .await;
    assert_eq!(status, 201, "register {id}: {body}");
}
