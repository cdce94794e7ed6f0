//! A charge point's identity: the last segment of its OCPP-J URL, its HTTP Basic user name,
//! and its id everywhere in voltgate. Checked once where it enters (the WebSocket handshake,
//! an API path or body), so code that holds a [`ChargerId`] holds a valid one.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// 1 to 48 printable ASCII characters without `/` or `:` (OCPP 2.0.1 part 2 and the 1.6
/// security white paper: `:` would break HTTP Basic auth, `/` the URL).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, min_length = 1, max_length = 48, pattern = "^[!-.0-9;-~]{1,48}$")]
pub struct ChargerId(Arc<str>);

/// Why a text is not a charge point identity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("charger id {0:?} must be 1 to 48 printable ASCII characters without '/' or ':'")]
pub struct InvalidChargerId(pub String);

impl ChargerId {
    /// The identity, if `id` is one.
    pub fn parse(id: impl Into<String>) -> Result<Self, InvalidChargerId> {
        let id = id.into();
        let ok = (1..=48).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic() && b != b'/' && b != b':');
        // Shared, not copied: every exchange the message log queues carries one.
        if ok {
            Ok(Self(id.into()))
        } else {
            Err(InvalidChargerId(id))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for ChargerId {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ChargerId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChargerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl TryFrom<String> for ChargerId {
    type Error = InvalidChargerId;

    fn try_from(id: String) -> Result<Self, Self::Error> {
        Self::parse(id)
    }
}

impl From<ChargerId> for Arc<str> {
    fn from(id: ChargerId) -> Self {
        id.0
    }
}

impl From<ChargerId> for String {
    fn from(id: ChargerId) -> Self {
        id.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_and_what_is_not_one() {
        assert_eq!(ChargerId::parse("CP-001").unwrap().as_str(), "CP-001");
        assert!(ChargerId::parse("x".repeat(48)).is_ok());
        for bad in ["", "a/b", "a:b", "a b", "é", &"x".repeat(49)] {
            assert!(ChargerId::parse(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_value::<ChargerId>(serde_json::json!("a:b")).is_err());
    }
}
