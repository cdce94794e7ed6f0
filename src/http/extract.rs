//! Extractors whose rejections are [`ApiError`]s: the bearer-token principal, JSON bodies
//! that name the failing field, and paths/queries that answer JSON 400s.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::access::Principal;
use crate::services;
use crate::state::AppState;

/// The authenticated caller with a full session. The reason a token failed is logged at
/// debug; the client always gets the same 401. A token that may only enrol two-factor gets
/// 403 `enrolment_required`.
pub struct Auth {
    pub principal: Principal,
    /// The bearer token itself (logout revokes it).
    pub token: String,
}

/// The authenticated caller, full session or not: for the few routes a user who must enrol
/// two-factor may reach (`/me`, `/me/2fa*`, `/logout`).
pub struct AnyAuth(pub Auth);

async fn session(parts: &Parts, state: &AppState) -> Result<(Auth, bool), ApiError> {
    let token = parts
        .headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or(services::Error::Unauthenticated)?;
    let session = services::auth::authenticate(state, token).await.inspect_err(|e| {
        tracing::debug!(error = %e, "bearer token refused");
    })?;
    let auth = Auth {
        principal: session.principal,
        token: token.to_owned(),
    };
    Ok((auth, session.full))
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match session(parts, state).await? {
            (auth, true) => Ok(auth),
            (_, false) => Err(services::Error::EnrolmentRequired.into()),
        }
    }
}

impl FromRequestParts<AppState> for AnyAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        session(parts, state).await.map(|(auth, _)| AnyAuth(auth))
    }
}

/// The client's address, for plain and HTTPS listeners alike (`ConnectInfo<ClientAddr>`, set
/// by [`super::serve`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::SocketAddr);

/// A JSON object body; a parse or type error answers 422 naming the field. An array where
/// the object belongs is refused (serde would fill the fields by position).
pub struct Json<T>(pub T);

/// A JSON array body (`PUT .../memberships`), read like [`Json`].
pub struct JsonList<T>(pub Vec<T>);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = body_value(req, state).await?;
        if !value.is_object() {
            return Err(ApiError::validation("", "the body must be a JSON object"));
        }
        typed(value).map(Json).map_err(|e| *e)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonList<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = body_value(req, state).await?;
        if !value.is_array() {
            return Err(ApiError::validation("", "the body must be a JSON array"));
        }
        typed(value).map(JsonList).map_err(|e| *e)
    }
}

/// The body as JSON, with whole numbers written as decimals (`3.0`) made integers: JSON
/// does not tell them apart, and an integer field must take both.
async fn body_value<S: Send + Sync>(req: Request, state: &S) -> Result<serde_json::Value, ApiError> {
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(e.status(), "payload_too_large", "request body over 1 MiB")
        } else {
            ApiError::validation("", format!("unreadable body: {e}"))
        }
    })?;
    let mut value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::validation("", format!("not JSON: {e}")))?;
    whole_numbers(&mut value);
    Ok(value)
}

fn whole_numbers(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64())
                && f.fract() == 0.0
                && f.abs() < 9.0e15
            {
                *n = serde_json::Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(fields) => fields.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// `value` as `T`; a type error answers 422 naming the field.
fn typed<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, Box<ApiError>> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { String::new() } else { path };
        Box::new(ApiError::validation(field, err.into_inner().to_string()))
    })
}

/// Path parameters; a malformed one answers 400.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// Query parameters; a malformed one answers 400.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(v)| Query(v))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}
