//! What the JSON API and the web console share over HTTP: the one mapping of service,
//! command and gate errors to HTTP answers ([`ApiError`]), and the extractors (bearer
//! principal, JSON bodies, paths and queries) whose rejections are such answers.

pub mod body_deadline;
pub mod error;
pub mod extract;
pub mod serve;

pub use error::{ApiError, ApiResult, ErrorBody};
pub use extract::ClientAddr;
