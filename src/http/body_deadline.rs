//! A whole request body must arrive within `api.body_timeout_s`. The router's request timeout
//! is long (remote commands wait for chargers), so without this a client dribbling a body a
//! byte at a time would hold its connection for minutes. Bodies are small JSON (at most the
//! body limit), so reading them whole before routing costs nothing the handlers did not
//! already do.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// How long a body may take and how large it may be.
#[derive(Debug, Clone, Copy)]
pub struct BodyRules {
    pub deadline: Duration,
    pub limit: usize,
}

/// Middleware: buffers the body within the deadline, or answers 408 (413 past the limit) and
/// closes the connection.
pub async fn whole_body_in_time(State(rules): State<BodyRules>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let refusal = match tokio::time::timeout(rules.deadline, axum::body::to_bytes(body, rules.limit)).await {
        Ok(Ok(bytes)) => return next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(e)) if is_over_limit(&e) => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body over {} MiB", rules.limit / (1024 * 1024)),
        ),
        // The client went away mid-body; nobody reads this answer.
        Ok(Err(_)) => ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_body",
            "the request body could not be read",
        ),
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the request body did not arrive within {} s", rules.deadline.as_secs()),
        ),
    };
    // The rest of the body is never read, so the connection cannot carry another request.
    ([(header::CONNECTION, "close")], refusal).into_response()
}

fn is_over_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}
