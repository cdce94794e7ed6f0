//! Who may open an OCPP connection: security profile 1 (HTTP Basic with the charge point id
//! as user name, OCPP 1.6 security white paper / 2.0.1 A00.FR.2xx) and the policy for
//! unregistered charge points.

use super::Station;
use crate::config::UnknownChargers;
use crate::ocpp::ChargerId;
use crate::store;

/// HTTP Basic credentials from the handshake.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// How the charger reached us: plain `ws://`, or TLS with the subject CN of a client
/// certificate the CA in `tls.client_ca_file` signed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transport {
    pub tls: bool,
    pub client_cn: Option<String>,
}

/// One handshake being checked against a security profile.
struct Attempt<'a> {
    charger_id: &'a ChargerId,
    charger: &'a entity::charger::Model,
    credentials: Option<&'a Credentials>,
    transport: &'a Transport,
}

/// A charger allowed to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admission {
    /// False for a charger that is not assigned to an organisation (it will get Pending).
    pub assigned: bool,
}

/// Why a handshake is refused; the gateway turns each into an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("unknown charge point")]
    UnknownCharger,
    #[error("no credentials")]
    MissingCredentials,
    #[error("wrong credentials")]
    WrongCredentials,
    #[error("charger has no password set")]
    NoPassword,
    #[error("security profile {0} needs TLS (wss://)")]
    TlsRequired(u8),
    #[error("security profile 3 needs a client certificate")]
    MissingCertificate,
    #[error("client certificate is for {0:?}, not this charge point")]
    WrongCertificate(String),
    #[error("store unavailable: {0}")]
    Unavailable(store::Error),
}

impl Refusal {
    /// True when the answer must be 401, so the client learns nothing more than "not you".
    pub fn is_authentication(&self) -> bool {
        matches!(
            self,
            Refusal::MissingCredentials
                | Refusal::WrongCredentials
                | Refusal::NoPassword
                | Refusal::TlsRequired(_)
                | Refusal::MissingCertificate
                | Refusal::WrongCertificate(_)
        )
    }
}

impl Station {
    /// Decides whether `charger_id` may connect with these credentials over this transport,
    /// by the charger's own security profile (or `ocpp.security_profile` if it has none):
    /// 1 HTTP Basic; 2 TLS and HTTP Basic; 3 TLS with a client certificate whose CN is the
    /// charge point id (OCPP 2.0.1 A00.FR.3xx/4xx, 1.6 security white paper).
    pub async fn admit(
        &self,
        charger_id: &ChargerId,
        credentials: Option<Credentials>,
        transport: &Transport,
    ) -> Result<Admission, Refusal> {
        let charger = self
            .store
            .charger_for_handshake(charger_id)
            .await
            .map_err(Refusal::Unavailable)?;
        let pending_allowed = self.unknown_chargers == UnknownChargers::Pending;
        let Some(charger) = charger else {
            if !pending_allowed {
                // Under profile 1 an unknown id looks exactly like a wrong password, so ids
                // cannot be enumerated.
                return Err(if self.security_profile >= 1 {
                    Refusal::WrongCredentials
                } else {
                    Refusal::UnknownCharger
                });
            }
            self.store
                .note_unassigned_charger(charger_id)
                .await
                .map_err(Refusal::Unavailable)?;
            return Ok(Admission { assigned: false });
        };
        let assigned = charger.organisation_id.is_some();
        let current = charger
            .security_profile
            .and_then(|p| u8::try_from(p).ok())
            .unwrap_or(self.security_profile);
        // A profile upgrade in flight: the first connection that meets the new profile makes
        // it the charger's; until then the old one still admits it (no lock-out).
        let attempt = Attempt {
            charger_id,
            charger: &charger,
            credentials: credentials.as_ref(),
            transport,
        };
        let next = charger.security_profile_pending.and_then(|p| u8::try_from(p).ok());
        if let Some(next) = next.filter(|n| *n > current) {
            if self.meets(next, &attempt, pending_allowed).await.is_ok() {
                let adopted = self
                    .store
                    .adopt_security_profile(charger_id, next)
                    .await
                    .map_err(Refusal::Unavailable)?;
                if adopted {
                    tracing::info!(charger = %charger_id, profile = next, "charger connected on its new security profile");
                }
                return Ok(Admission { assigned });
            }
        }
        self.meets(current, &attempt, pending_allowed).await.inspect_err(|e| {
            if matches!(e, Refusal::TlsRequired(_)) {
                // A charger above profile 1 coming back on plain ws:// is a downgrade attempt.
                tracing::warn!(charger = %charger_id, profile = current, "refused: no TLS below its security profile");
            }
        })?;
        Ok(Admission { assigned })
    }

    /// Whether this connection meets security `profile`: 1 HTTP Basic; 2 TLS and HTTP Basic;
    /// 3 TLS with a client certificate whose CN is the charge point id.
    async fn meets(&self, profile: u8, attempt: &Attempt<'_>, pending_allowed: bool) -> Result<(), Refusal> {
        let (charger_id, transport) = (attempt.charger_id, attempt.transport);
        if profile >= 2 && !transport.tls {
            return Err(Refusal::TlsRequired(profile));
        }
        match profile {
            0 => return Ok(()),
            3 => {
                return match &transport.client_cn {
                    Some(cn) if cn == charger_id.as_str() => Ok(()),
                    Some(cn) => Err(Refusal::WrongCertificate(cn.clone())),
                    None => Err(Refusal::MissingCertificate),
                };
            }
            _ => {}
        }
        let assigned = attempt.charger.organisation_id.is_some();
        let Some(hash) = attempt.charger.password_hash.as_deref() else {
            // Still waiting for assignment: it has no password it could know.
            if !assigned && pending_allowed {
                return Ok(());
            }
            return Err(Refusal::NoPassword);
        };
        let Some(credentials) = attempt.credentials else {
            return Err(Refusal::MissingCredentials);
        };
        if credentials.username != charger_id.as_str() {
            return Err(Refusal::WrongCredentials);
        }
        if self.password_is(charger_id, hash, &credentials.password).await {
            return Ok(());
        }
        // A rotation in flight: every password offered and not yet used is accepted, so no
        // order of answers, timeouts and reconnects locks the charger out; the first one used
        // becomes its password, and the old one stops working.
        let offers = self
            .store
            .password_offers(charger_id)
            .await
            .map_err(Refusal::Unavailable)?;
        for offer in offers {
            if !self
                .password_is(charger_id, &offer.password_hash, &credentials.password)
                .await
            {
                continue;
            }
            if self.store.adopt_password(&offer).await.map_err(Refusal::Unavailable)? {
                tracing::info!(charger = %charger_id, "charger connected with its new password; the old one no longer works");
                return Ok(());
            }
            // Another connection adopted it a moment ago, or the charger refused it meanwhile.
            let now = self.store.charger(charger_id).await.map_err(Refusal::Unavailable)?;
            return match now.and_then(|c| c.password_hash) {
                Some(current) if current == offer.password_hash => Ok(()),
                _ => Err(Refusal::WrongCredentials),
            };
        }
        Err(Refusal::WrongCredentials)
    }

    /// Whether `password` is the one `stored_hash` was made from (remembered once checked).
    async fn password_is(&self, charger_id: &ChargerId, stored_hash: &str, password: &str) -> bool {
        // A generated secret's hash is as cheap to check as the memory below, which it would
        // only fill.
        if crate::crypto::is_generated_secret_hash(stored_hash) {
            return crate::crypto::verify_password(password, stored_hash);
        }
        if self.verified.matches(charger_id, stored_hash, password) {
            return true;
        }
        let right = self.hasher.verify(password.to_owned(), stored_hash.to_owned()).await;
        if right {
            self.verified.remember(charger_id, stored_hash.to_owned(), password);
        }
        right
    }
}

/// Passwords a person chose, already checked with argon2, so a reconnect storm of 10,000
/// chargers costs 10,000 SHA-256s rather than 10,000 argon2 runs. Keyed by charger and by the stored hash,
/// so a password change (a new hash) invalidates the entry; only a SHA-256 of the password is
/// kept, and charger passwords are random, so it is no shortcut for an attacker.
#[derive(Debug, Default)]
pub(super) struct VerifiedPasswords {
    by_charger: dashmap::DashMap<String, (String, [u8; 32])>,
}

impl VerifiedPasswords {
    fn digest(password: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        Sha256::digest(password.as_bytes()).into()
    }

    fn matches(&self, charger_id: &str, stored_hash: &str, password: &str) -> bool {
        use subtle::ConstantTimeEq;
        self.by_charger.get(charger_id).is_some_and(|entry| {
            let (hash, digest) = entry.value();
            hash == stored_hash && bool::from(digest.ct_eq(&Self::digest(password)))
        })
    }

    fn remember(&self, charger_id: &str, stored_hash: String, password: &str) {
        self.by_charger
            .insert(charger_id.to_owned(), (stored_hash, Self::digest(password)));
    }
}
