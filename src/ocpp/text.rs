//! Strings with the spec's length limit, for the messages voltgate types itself (rust-ocpp
//! checks no lengths on deserialising). Too long answers `PropertyConstraintViolation`.

use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize};

/// A string of at most `N` characters (the schemas' `maxLength`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Text<const N: usize>(String);

impl<const N: usize> Text<N> {
    /// `value`, if it is at most `N` characters.
    pub fn new(value: impl Into<String>) -> Result<Self, String> {
        let value = value.into();
        if value.chars().count() > N {
            return Err(format!("longer than {N} characters"));
        }
        Ok(Self(value))
    }

    /// The string itself.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl<const N: usize> Deref for Text<N> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de, const N: usize> Deserialize<'de> for Text<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        assert!(serde_json::from_str::<Text<3>>(r#""äöü""#).is_ok());
        let err = serde_json::from_str::<Text<3>>(r#""abcd""#).unwrap_err();
        assert!(err.to_string().contains("longer than 3"), "{err}");
    }
}
