//! The back office's operations, shared by the HTTP API and the CLI. Every function takes the
//! acting [`Principal`], passes the gate before touching data, and audits every write and
//! every refusal. Nothing here knows about HTTP.

pub mod access_rules;
pub mod audit_log;
pub mod auth;
pub mod chargers;
pub mod dashboard;
pub mod drivers;
pub mod invitations;
pub mod organisations;
pub mod passwords;
pub mod sessions;
pub mod sites;
pub mod throttle;
pub mod tickets;
pub mod transactions;
pub mod two_factor;
pub mod users;

use entity::organisation;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::access::{AccessError, Authorized, Permission, Principal, Scope};
use crate::server::AppState;
use crate::store::{self, AuditEntry, Page};

/// A back-office failure; the API maps each variant to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Access(#[from] AccessError),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid user name or password")]
    InvalidCredentials,
    #[error("too many failed attempts; retry in {retry_after_s} s")]
    TooManyAttempts { retry_after_s: u64 },
    #[error("a one-time password is required")]
    OtpRequired,
    #[error("wrong or already used one-time password")]
    InvalidOtp,
    #[error("two-factor enrolment required before anything else")]
    EnrolmentRequired,
    #[error("{0}")]
    Gone(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Self {
        match e {
            store::Error::NotFound(what) => Error::NotFound(what),
            store::Error::Conflict(why) => Error::Conflict(why),
            store::Error::Invalid(why) => Error::Invalid {
                field: String::new(),
                message: why,
            },
            store::Error::Access(a) => Error::Access(a),
            store::Error::Db(db) => Error::Internal(db.to_string()),
        }
    }
}

/// Shorthand for service results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A 422 naming the field.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Error {
    Error::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// `?limit=&offset=&organisation_id=` of every list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
    /// Rows to skip.
    #[param(minimum = 0, maximum = 1_000_000_000)]
    pub offset: Option<u64>,
    /// Only this organisation and its subtree.
    pub organisation_id: Option<i32>,
}

impl ListQuery {
    /// The page asked for; a limit or offset out of bounds is a 422 naming it.
    pub fn page(&self) -> Result<Page> {
        Page::new(self.limit, self.offset).map_err(|(field, message)| invalid(field, message))
    }
}

/// What an audit row is about.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub organisation_id: Option<i32>,
    pub charger_id: Option<String>,
    pub resource: String,
}

impl Target {
    pub fn new(resource: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            ..Default::default()
        }
    }

    pub fn org(mut self, id: i32) -> Self {
        self.organisation_id = Some(id);
        self
    }

    pub fn charger(mut self, id: &str) -> Self {
        self.charger_id = Some(id.to_owned());
        self
    }
}

/// Writes an audit row; a failure to audit is logged, never hidden from operators' logs.
pub async fn audit(
    state: &AppState,
    p: &Principal,
    action: &str,
    target: Target,
    request: Option<Value>,
    outcome: &str,
    detail: Option<String>,
) {
    let entry = AuditEntry {
        user_id: p.user_id(),
        action: action.into(),
        organisation_id: target.organisation_id,
        charger_id: target.charger_id,
        resource: Some(target.resource),
        request,
        outcome: outcome.into(),
        detail,
    };
    if let Err(e) = state.store.record_audit(entry).await {
        tracing::error!(error = %e, %action, "could not write the audit log");
    }
}

/// Audits a refusal and returns the error to answer with.
pub(crate) async fn refused(state: &AppState, p: &Principal, action: &str, target: Target, err: Error) -> Error {
    audit(state, p, action, target, None, "denied", Some(err.to_string())).await;
    err
}

/// The gate, with the refusal audited.
pub async fn gate(
    state: &AppState,
    p: &Principal,
    permission: Permission,
    org: &organisation::Model,
    action: &str,
    target: Target,
) -> Result<Authorized> {
    match p.authorize(permission, org.into()) {
        Ok(auth) => Ok(auth),
        Err(e) => Err(refused(state, p, action, target.org(org.id), e.into()).await),
    }
}

/// Loads an organisation the caller names; a missing one is refused like an invisible one.
pub(crate) async fn named_organisation(
    state: &AppState,
    p: &Principal,
    id: i32,
    action: &str,
) -> Result<organisation::Model> {
    match state.store.organisation(id).await? {
        Some(org) => Ok(org),
        None => Err(refused(
            state,
            p,
            action,
            Target::new(format!("organisation:{id}")),
            AccessError::NotFound.into(),
        )
        .await),
    }
}

/// Loads something an organisation owns and runs the gate on that organisation; a missing
/// one answers 404 like an invisible one.
pub(crate) async fn owned<T>(
    state: &AppState,
    p: &Principal,
    found: Option<T>,
    org_of: impl Fn(&T) -> i32,
    permission: Permission,
    action: &str,
    resource: String,
) -> Result<(T, Authorized)> {
    let Some(item) = found else {
        return Err(refused(state, p, action, Target::new(resource), AccessError::NotFound.into()).await);
    };
    let org = named_organisation(state, p, org_of(&item), action).await?;
    let auth = gate(state, p, permission, &org, action, Target::new(resource).org(org.id)).await?;
    Ok((item, auth))
}

/// The scope of a list: where `permission` holds, narrowed by `?organisation_id=`.
pub(crate) async fn list_scope(
    state: &AppState,
    p: &Principal,
    permission: Permission,
    q: &ListQuery,
    action: &str,
) -> Result<Scope> {
    let result = match q.organisation_id {
        None => p.scope(permission),
        Some(id) => {
            let org = named_organisation(state, p, id, action).await?;
            p.scope_within(permission, (&org).into())
        }
    };
    match result {
        Ok(scope) => Ok(scope),
        Err(e) => {
            let target = Target {
                organisation_id: q.organisation_id,
                ..Target::new("list")
            };
            Err(refused(state, p, action, target, e.into()).await)
        }
    }
}

/// For PATCH bodies: distinguishes an absent field (`None`) from an explicit `null`
/// (`Some(None)`).
pub(crate) fn double_option<'de, D, T>(d: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
