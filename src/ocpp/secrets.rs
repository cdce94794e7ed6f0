//! Configuration keys and device-model variables whose values are credentials. voltgate never
//! stores, logs or shows their values, whatever a charger reports of them.

/// Variables whose values are credentials whatever the charger says of them: the specs'
/// `BasicAuthPassword` and `AuthorizationKey`, and anything named like a password, secret,
/// private key or certificate.
pub fn is_secret_variable(variable: &str) -> bool {
    let name = variable.to_ascii_lowercase();
    name == "authorizationkey"
        || ["password", "secret", "privatekey", "certificate"]
            .iter()
            .any(|word| name.contains(word))
}

/// What stands in for a removed secret wherever voltgate keeps a charger's words.
pub const REDACTED: &str = "[redacted]";

/// Whether a text holds a PEM private key (a charger that sends its own by mistake).
pub fn holds_private_key(text: &str) -> bool {
    text.contains("PRIVATE KEY")
}

/// Replaces every string in `value` that holds a private key; true if any did.
pub fn hide_private_keys(value: &mut serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) if holds_private_key(s) => {
            *s = REDACTED.to_owned();
            true
        }
        Value::Array(items) => items.iter_mut().fold(false, |any, v| hide_private_keys(v) | any),
        Value::Object(map) => map.values_mut().fold(false, |any, v| hide_private_keys(v) | any),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_secret_whatever_the_charger_says() {
        for name in [
            "BasicAuthPassword",
            "AuthorizationKey",
            "CentralSystemCertificate",
            "ClientSecret",
        ] {
            assert!(is_secret_variable(name), "{name}");
        }
        for name in ["HeartbeatInterval", "MessageAttempts", "AuthorizeRemoteStart"] {
            assert!(!is_secret_variable(name), "{name}");
        }
    }
}
