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
