//! OCPP versions and WebSocket subprotocol negotiation.

use std::fmt;

/// An OCPP version voltgate speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub enum OcppVersion {
    #[serde(rename = "1.6")]
    V16,
    #[serde(rename = "2.0.1")]
    V201,
}

impl OcppVersion {
    /// The WebSocket subprotocol token for this version.
    pub fn subprotocol(self) -> &'static str {
        match self {
            OcppVersion::V16 => "ocpp1.6",
            OcppVersion::V201 => "ocpp2.0.1",
        }
    }

    /// The version a subprotocol token names, if voltgate speaks it.
    pub fn from_subprotocol(token: &str) -> Option<Self> {
        match token.trim() {
            "ocpp1.6" => Some(OcppVersion::V16),
            "ocpp2.0.1" => Some(OcppVersion::V201),
            _ => None,
        }
    }

    /// Picks the charger's first offered subprotocol that voltgate supports; the
    /// argument is the raw `Sec-WebSocket-Protocol` header values, in order.
    pub fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        offered
            .into_iter()
            .flat_map(|header| header.split(','))
            .find_map(Self::from_subprotocol)
    }

    /// The short name stored in the database and shown in the API (`1.6`, `2.0.1`).
    pub fn as_str(self) -> &'static str {
        match self {
            OcppVersion::V16 => "1.6",
            OcppVersion::V201 => "2.0.1",
        }
    }
}

impl fmt::Display for OcppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_chargers_first_supported_choice() {
        assert_eq!(OcppVersion::negotiate(["ocpp2.0.1, ocpp1.6"]), Some(OcppVersion::V201));
        assert_eq!(OcppVersion::negotiate(["ocpp1.6", "ocpp2.0.1"]), Some(OcppVersion::V16));
        assert_eq!(OcppVersion::negotiate(["ocpp2.1,ocpp1.6"]), Some(OcppVersion::V16));
        assert_eq!(OcppVersion::negotiate(["ocpp1.5", "mqtt"]), None);
        assert_eq!(OcppVersion::negotiate([]), None);
    }
}
