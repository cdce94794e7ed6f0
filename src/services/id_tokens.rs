//! Id tokens (RFID cards and the like) through the gate, with the same rights as drivers;
//! a token's driver and group must belong to its organisation or above it.

use chrono::{DateTime, Utc};
use entity::id_token;
use entity::values::{TokenKind, TokenStatus};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{
    Audit, ListQuery, Owned, Result, Target, delete_owned, gate, invalid, listed, named_organisation, owned, required,
};
use crate::access::{Permission, Principal, cap};
use crate::state::AppState;
use crate::store::TokenFields;

/// An id token as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub id: i32,
    pub token: String,
    pub kind: TokenKind,
    pub organisation_id: i32,
    pub driver_id: Option<i32>,
    pub group_id: Option<i32>,
    pub status: TokenStatus,
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<id_token::Model> for TokenOut {
    fn from(t: id_token::Model) -> Self {
        Self {
            id: t.id,
            token: t.token,
            kind: t.kind,
            organisation_id: t.organisation_id,
            driver_id: t.driver_id,
            group_id: t.group_id,
            status: t.status,
            expires_at: t.expires_at,
        }
    }
}

/// `POST /api/v1/id-tokens` (token and organisation_id required) and `PATCH /api/v1/id-tokens/{id}`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    #[schema(min_length = 1, max_length = 36, pattern = r"\S")]
    pub token: Option<String>,
    pub organisation_id: Option<i32>,
    /// Default `ISO14443`.
    pub kind: Option<TokenKind>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub driver_id: Option<Option<i32>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub group_id: Option<Option<i32>>,
    pub status: Option<TokenStatus>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

/// Tokens the caller may read.
pub async fn list_tokens(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<TokenOut>> {
    let store = &state.store;
    listed(
        state,
        p,
        Permission::DriversRead,
        q,
        "id_token.list",
        async |scope, page| store.id_tokens_in(&scope, page).await,
    )
    .await
}

/// One token.
pub async fn get_token(state: &AppState, p: &Principal, id: i32) -> Result<TokenOut> {
    let found = state.store.id_token(id).await?;
    Ok(owned::<cap::DriversRead, _>(state, p, found, id, "id_token.read")
        .await?
        .0
        .into())
}

/// Checks a token's fields; the driver and group must be visible to the caller and belong to
/// the token's organisation or above it.
async fn token_fields(
    state: &AppState,
    p: &Principal,
    input: &TokenIn,
    org_path: &str,
    action: &str,
) -> Result<TokenFields> {
    let within = |owner: i32| crate::store::ancestors_of(org_path).contains(&owner);
    if let Some(Some(d)) = input.driver_id {
        let found = state.store.driver(d).await?;
        let (d, _) = owned::<cap::DriversRead, _>(state, p, found, d, action).await?;
        if !within(d.organisation_id) {
            return Err(invalid("driver_id", "the driver belongs to another organisation"));
        }
    }
    if let Some(Some(g)) = input.group_id {
        let found = state.store.group(g).await?;
        let (g, _) = owned::<cap::DriversRead, _>(state, p, found, g, action).await?;
        if !within(g.organisation_id) {
            return Err(invalid("group_id", "the group belongs to another organisation"));
        }
    }
    Ok(TokenFields {
        kind: input.kind,
        driver_id: input.driver_id,
        group_id: input.group_id,
        status: input.status,
        expires_at: input.expires_at,
    })
}

/// Issues a token (409 if the value exists in the same organisation tree).
pub async fn create_token(state: &AppState, p: &Principal, input: TokenIn) -> Result<TokenOut> {
    let action = "id_token.create";
    let value = required(&input.token, "token")?;
    if value.trim().is_empty() || value.chars().count() > 36 {
        return Err(invalid("token", "must be 1 to 36 characters"));
    }
    let org = named_organisation(state, p, required(&input.organisation_id, "organisation_id")?, action).await?;
    let auth = gate::<cap::DriversWrite>(state, p, &org, action, Target::new("id_token").org(org.id)).await?;
    let fields = token_fields(state, p, &input, &org.path, action).await?;
    let t = state.store.create_id_token(&auth, &org, value.trim(), fields).await?;
    Audit::new(p, action, t.target()).request(json!(input)).ok(state).await;
    Ok(t.into())
}

/// Blocks, unblocks, expires or reassigns a token.
pub async fn update_token(state: &AppState, p: &Principal, id: i32, input: TokenIn) -> Result<TokenOut> {
    let action = "id_token.update";
    if input.token.is_some() || input.organisation_id.is_some() {
        return Err(invalid(
            "token",
            "a token's value and organisation cannot change; issue a new one",
        ));
    }
    let found = state.store.id_token(id).await?;
    let (t, auth) = owned::<cap::DriversWrite, _>(state, p, found, id, action).await?;
    let org = named_organisation(state, p, t.organisation_id, action).await?;
    let fields = token_fields(state, p, &input, &org.path, action).await?;
    let t = state.store.update_id_token(&auth, t, fields).await?;
    Audit::new(p, action, t.target()).request(json!(input)).ok(state).await;
    Ok(t.into())
}

/// Deletes a token.
pub async fn delete_token(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let found = state.store.id_token(id).await?;
    delete_owned::<cap::DriversWrite, _>(state, p, found, id, async |auth, t| {
        state.store.delete_id_token(auth, t).await
    })
    .await
}

/// `POST /api/v1/id-tokens`: the card's value and owner are required, and fixed from then on.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[schema(min_length = 1, max_length = 36, pattern = r"\S")]
    pub token: String,
    pub organisation_id: i32,
    /// Default `ISO14443`.
    pub kind: Option<TokenKind>,
    pub driver_id: Option<i32>,
    pub group_id: Option<i32>,
    /// Default `Accepted`.
    pub status: Option<TokenStatus>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl From<NewToken> for TokenIn {
    fn from(t: NewToken) -> Self {
        Self {
            token: Some(t.token),
            organisation_id: Some(t.organisation_id),
            kind: t.kind,
            driver_id: Some(t.driver_id),
            group_id: Some(t.group_id),
            status: t.status,
            expires_at: Some(t.expires_at),
        }
    }
}

/// `PATCH /api/v1/id-tokens/{id}`: everything but the value and the owner.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenPatch {
    pub kind: Option<TokenKind>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub driver_id: Option<Option<i32>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<i32>)]
    pub group_id: Option<Option<i32>>,
    pub status: Option<TokenStatus>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

impl From<TokenPatch> for TokenIn {
    fn from(t: TokenPatch) -> Self {
        Self {
            token: None,
            organisation_id: None,
            kind: t.kind,
            driver_id: t.driver_id,
            group_id: t.group_id,
            status: t.status,
            expires_at: t.expires_at,
        }
    }
}
