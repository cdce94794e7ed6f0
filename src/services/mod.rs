//! The back office's operations, shared by the HTTP API and the CLI. Every function takes the
//! acting [`Principal`], passes the gate before touching data, and audits every write and
//! every refusal. Nothing here knows about HTTP.

pub mod access_rules;
pub mod audit_log;
pub mod auth;
pub mod charger_events;
pub mod chargers;
pub mod dashboard;
pub mod device_model;
pub mod drivers;
mod gate;
pub mod groups;
pub mod housekeeping;
pub mod id_tokens;
pub mod invitations;
pub mod local_lists;
pub mod messages;
pub mod organisations;
pub mod passwords;
pub mod sessions;
pub mod sites;
pub mod tariffs;
pub mod tickets;
pub mod transactions;
pub mod two_factor;
pub mod users;
pub mod webhooks;

use serde::{Deserialize, Deserializer};

use crate::access::AccessError;
use crate::store::{self, Page};

pub use audit_log::{Audit, Target};
pub(crate) use gate::{
    Owned, delete_owned, gate, gate_seen, list_scope, listed, named_organisation, owned, owned_via, refused, saving,
};

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
    /// The database failed (not a conflict, not a missing row): kept whole for the log.
    #[error("database error")]
    Database(#[source] sea_orm::DbErr),
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
            // A row it refers to went away meanwhile (or one that refers to it came): a
            // conflict with another request, not a server fault.
            store::Error::Db(db) if matches!(db.sql_err(), Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))) => {
                Error::Conflict("another change to what this refers to came first; reload and retry".into())
            }
            // Deleted by a concurrent request between our read and our write.
            store::Error::Db(sea_orm::DbErr::RecordNotFound(_) | sea_orm::DbErr::RecordNotUpdated) => {
                Error::NotFound("resource".into())
            }
            store::Error::Db(db) => Error::Database(db),
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

/// A field a create body must have.
pub(crate) fn required<T: Clone>(v: &Option<T>, field: &str) -> Result<T> {
    v.clone().ok_or_else(|| invalid(field, "required"))
}

/// A text field that, when given, must hold more than white space.
pub(crate) fn non_blank(field: &str, value: Option<&str>) -> Result<()> {
    match value {
        Some(v) if v.trim().is_empty() => Err(invalid(field, "must not be empty")),
        _ => Ok(()),
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
    /// The largest page from the start, of `organisation_id`'s subtree or of everything in
    /// reach (pickers and short lists in the console).
    pub fn largest(organisation_id: Option<i32>) -> Self {
        Self {
            limit: Some(Page::MAX_LIMIT),
            offset: None,
            organisation_id,
        }
    }

    /// The page asked for; a limit or offset out of bounds is a 422 naming it.
    pub fn page(&self) -> Result<Page> {
        page(self.limit, self.offset)
    }
}

/// A page of `limit` rows after `offset`; out of bounds is a 422 naming the field.
pub(crate) fn page(limit: Option<u64>, offset: Option<u64>) -> Result<Page> {
    Page::new(limit, offset).map_err(|(field, message)| invalid(field, message))
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
