//! The one place where back-office errors become HTTP answers: `{error, message}` with a
//! stable code; 5xx details are logged, never sent.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::AccessError;
use crate::{commands, services};

/// The JSON body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code (`not_found`, `forbidden`, `validation_failed`, ...).
    pub error: &'static str,
    pub message: String,
    /// The offending field, for `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What the charger answered, for `charger_error` (a CALLERROR).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charger_error: Option<ChargerErrorBody>,
}

/// A charger's CALLERROR.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChargerErrorBody {
    pub code: String,
    pub description: String,
}

/// An HTTP error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    retry_after_s: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error,
                message: message.into(),
                field: None,
                charger_error: None,
            },
            retry_after_s: None,
        }
    }

    /// 422 naming the field.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message);
        let field = field.into();
        e.body.field = (!field.is_empty()).then_some(field);
        e
    }

    /// 400 for a malformed path or query.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Seconds to wait before trying again (429).
    pub fn retry_after_s(&self) -> Option<u64> {
        self.retry_after_s
    }

    /// The human-readable message (never a 5xx's details).
    pub fn message(&self) -> &str {
        &self.body.message
    }

    /// 404 for a route that does not exist.
    pub fn no_route() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
    }
}

impl From<services::Error> for ApiError {
    fn from(e: services::Error) -> Self {
        use services::Error as E;
        match e {
            E::Access(AccessError::NotFound) | E::NotFound(_) => {
                Self::new(StatusCode::NOT_FOUND, "not_found", "not found")
            }
            E::Access(AccessError::Forbidden) => Self::new(StatusCode::FORBIDDEN, "forbidden", "not permitted"),
            E::Conflict(why) => Self::new(StatusCode::CONFLICT, "conflict", why),
            E::Invalid { field, message } => Self::validation(field, message),
            E::Unauthenticated => Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "authentication required"),
            E::InvalidCredentials => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "invalid user name or password",
            ),
            E::TooManyAttempts { retry_after_s } => {
                let mut e = Self::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    "too many failed attempts; try again later",
                );
                e.retry_after_s = Some(retry_after_s);
                e
            }
            E::OtpRequired => Self::new(
                StatusCode::UNAUTHORIZED,
                "otp_required",
                "this account needs a one-time password (`otp`)",
            ),
            E::InvalidOtp => Self::new(
                StatusCode::UNAUTHORIZED,
                "invalid_otp",
                "wrong or already used one-time password",
            ),
            E::EnrolmentRequired => Self::new(
                StatusCode::FORBIDDEN,
                "enrolment_required",
                "your organisation requires two-factor authentication: enrol at /api/v1/me/2fa first",
            ),
            E::Gone(why) => Self::new(StatusCode::GONE, "invitation_gone", why),
            E::Database(e) if crate::store::unavailable(&e) => {
                tracing::warn!(error = %e, "database unavailable");
                let mut err = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "database_unavailable",
                    "the database is unavailable; try again shortly",
                );
                err.retry_after_s = Some(5);
                err
            }
            E::Database(e) => {
                tracing::error!(error = %e, "database error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
            }
            E::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
            }
        }
    }
}

impl From<commands::Error> for ApiError {
    fn from(e: commands::Error) -> Self {
        use commands::Error as E;
        let message = e.to_string();
        match e {
            E::Service(s) => s.into(),
            E::Invalid { field, message } => Self::validation(field, message),
            E::Offline => Self::new(StatusCode::CONFLICT, "charger_offline", message),
            E::NotReady => Self::new(StatusCode::CONFLICT, "charger_not_ready", message),
            E::Busy(_) => Self::new(StatusCode::CONFLICT, "busy", message),
            E::Timeout => Self::new(StatusCode::GATEWAY_TIMEOUT, "charger_timeout", message),
            E::Disconnected => Self::new(StatusCode::BAD_GATEWAY, "charger_disconnected", message),
            E::BadAnswer(_) => Self::new(StatusCode::BAD_GATEWAY, "charger_bad_answer", message),
            E::ChargerError { code, description } => {
                let mut err = Self::new(StatusCode::BAD_GATEWAY, "charger_error", message);
                err.body.charger_error = Some(ChargerErrorBody { code, description });
                err
            }
            E::Internal(detail) => services::Error::Internal(detail).into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(s) = self.retry_after_s {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        response
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
