//! Why a command produced no answer from the charger, and the names its outcome has in
//! metrics and audit rows. HTTP status codes are chosen in `http::error`, nowhere else.

use crate::gateway::CallFailure;
use crate::services;

/// Why a command produced no answer from the charger.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Service(#[from] services::Error),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("charger is offline")]
    Offline,
    #[error("charger has not been accepted by a BootNotification yet")]
    NotReady,
    #[error("a {0} command is already in flight for this charger")]
    Busy(&'static str),
    #[error("charger did not answer within the timeout")]
    Timeout,
    #[error("charger answered {code}: {description}")]
    ChargerError { code: String, description: String },
    #[error("connection closed before the charger answered")]
    Disconnected,
    #[error("charger answered with an invalid payload: {0}")]
    BadAnswer(#[source] serde_json::Error),
    #[error("internal error: {0}")]
    Internal(String),
}

/// A store failure is a service failure (404, 409, 503 or 500 as `http::error` maps them).
impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Self {
        Error::Service(e.into())
    }
}

impl Error {
    /// What the fleet's failure to get an answer means for a `kind` command.
    pub(super) fn from_call(f: CallFailure, kind: &'static str) -> Self {
        match f {
            CallFailure::CallError { code, description, .. } => Error::ChargerError { code, description },
            CallFailure::Timeout => Error::Timeout,
            CallFailure::Offline => Error::Offline,
            CallFailure::Busy => Error::Busy(kind),
            CallFailure::Disconnected => Error::Disconnected,
        }
    }

    /// True when the command surely never reached the charger or the charger said no (so
    /// nothing it was sent can be in use); false when it may have taken it unanswered.
    pub(super) fn surely_not_taken(&self) -> bool {
        matches!(
            self,
            Error::ChargerError { .. } | Error::Offline | Error::Busy(_) | Error::NotReady
        )
    }

    /// The metrics label.
    pub(super) fn outcome(&self) -> &'static str {
        match self {
            Error::Offline => "offline",
            Error::NotReady => "not_ready",
            Error::Busy(_) => "busy",
            Error::Timeout => "timeout",
            Error::ChargerError { .. } => "call_error",
            Error::Disconnected => "disconnected",
            Error::BadAnswer(_) => "bad_answer",
            Error::Service(_) | Error::Invalid { .. } | Error::Internal(_) => "failed",
        }
    }

    /// The audit row's outcome once a command was sent.
    pub(super) fn audit_outcome(&self) -> &'static str {
        match self {
            Error::Timeout => "timeout",
            Error::ChargerError { .. } => "call_error",
            _ => "failed",
        }
    }

    /// The audit row's detail once a command was sent.
    pub(super) fn audit_detail(&self) -> Option<String> {
        match self {
            Error::Timeout => None,
            Error::ChargerError { code, .. } => Some(code.clone()),
            e => Some(e.to_string()),
        }
    }
}
