//! Password hashing (argon2id) and random tokens, shared by charger and user credentials.

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Hashes a password with argon2id, argon2's default parameters and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    hash_password_with(password, argon2::Params::default())
}

/// Hashes a password with argon2id and the given parameters (`accounts.argon2_*`).
pub fn hash_password_with(password: &str, params: argon2::Params) -> Result<String, argon2::password_hash::Error> {
    let argon2 = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2.hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Hashes a charge point's password with lighter argon2id parameters: `memory_kib` of memory
/// (`ocpp.charger_password_memory_kib`, default 256), one pass.
///
/// A charger password is a 16-to-40-character machine secret (OCPP 2.0.1 part 2 A00.FR.205,
/// enforced on registration), not a person's memorable one. Measured on 2 cores: with the user
/// parameters (19 MiB, two passes) a 10,000-charger reconnect storm spent ~90 s in argon2; with
/// 256 KiB the whole storm is answered in ~3 s. Deployments that let people choose charger
/// passwords can raise the memory; existing hashes keep verifying with their own parameters.
pub fn hash_charger_password(password: &str, memory_kib: u32) -> Result<String, argon2::password_hash::Error> {
    let params = argon2::Params::new(memory_kib, 1, 1, None)?;
    let argon2 = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2.hash_password(password.as_bytes(), &salt)?.to_string())
}

/// How [`hash_generated_secret`] marks its hashes (a PHC-style `$id$salt$hash` string).
const GENERATED_SECRET: &str = "$voltgate-sha256$";

/// Hashes a secret voltgate generated itself (a charger password it chose: 119 random bits
/// at the least) with a random 128-bit salt and one SHA-256.
///
/// A slow hash is there to make guessing a person's password expensive; a generated secret
/// cannot be guessed at any speed (2^119 tries), which is why API tokens are stored the same
/// way ([`token_hash`]). Checking it costs a microsecond instead of an argon2 run, so a fleet
/// reconnecting after a restart is not bounded by the password check. Passwords a person chose
/// keep [`hash_charger_password`].
pub fn hash_generated_secret(secret: &str) -> String {
    let salt = random_bytes::<16>();
    format!(
        "{GENERATED_SECRET}{}${}",
        URL_SAFE_NO_PAD.encode(salt),
        URL_SAFE_NO_PAD.encode(salted_sha256(&salt, secret))
    )
}

/// Whether `hash` was made by [`hash_generated_secret`].
pub fn is_generated_secret_hash(hash: &str) -> bool {
    hash.starts_with(GENERATED_SECRET)
}

fn salted_sha256(salt: &[u8], secret: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    digest.update(salt);
    digest.update(secret.as_bytes());
    digest.finalize().into()
}

/// Checks a secret against a [`hash_generated_secret`] hash; `None` if `hash` is not one.
fn verify_generated_secret(secret: &str, hash: &str) -> Option<bool> {
    use subtle::ConstantTimeEq;
    let (salt, expected) = hash.strip_prefix(GENERATED_SECRET)?.split_once('$')?;
    let salt = URL_SAFE_NO_PAD.decode(salt).ok()?;
    let expected = URL_SAFE_NO_PAD.decode(expected).ok()?;
    Some(bool::from(salted_sha256(&salt, secret).as_slice().ct_eq(&expected)))
}

/// Checks a password against a PHC hash (argon2id, or a [`hash_generated_secret`] hash); a
/// malformed hash never matches.
///
/// Verification reuses one argon2 memory area per thread instead of allocating ~19 MiB per
/// check: with glibc, freed blocks that large raise the allocator's mmap threshold and stay in
/// the thread's arena, which after a reconnect storm showed up as hundreds of MB of RSS.
pub fn verify_password(password: &str, hash: &str) -> bool {
    use argon2::{Algorithm, Block, Params, Version};
    use subtle::ConstantTimeEq;
    thread_local! {
        static MEMORY: std::cell::RefCell<Vec<Block>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    if is_generated_secret_hash(hash) {
        return verify_generated_secret(password, hash).unwrap_or(false);
    }
    let check = || -> Option<bool> {
        let parsed = PasswordHash::new(hash).ok()?;
        let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
        let version = parsed.version.map_or(Ok(Version::V0x13), Version::try_from).ok()?;
        let params = Params::try_from(&parsed).ok()?;
        let expected = parsed.hash?;
        let mut salt = [0u8; 64];
        let salt = parsed.salt?.decode_b64(&mut salt).ok()?;
        let mut out = vec![0u8; expected.len()];
        let blocks = params.block_count();
        let argon2 = Argon2::new(algorithm, version, params);
        MEMORY.with(|memory| {
            let mut memory = memory.borrow_mut();
            if memory.len() < blocks {
                memory.resize(blocks, Block::default());
            }
            argon2
                .hash_password_into_with_memory(password.as_bytes(), salt, &mut out, &mut memory[..blocks])
                .ok()
        })?;
        Some(bool::from(out.as_slice().ct_eq(expected.as_bytes())))
    };
    check().unwrap_or(false)
}

/// `bytes` random bytes from the OS, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// `len` random letters and digits from the OS: a password any charger's keypad, web page
/// and OCPP `passwordString` takes.
pub fn random_password(len: usize) -> String {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<64>() {
            // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
            if b < 248 && out.len() < len {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    out
}

/// `N` random bytes from the OS.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    OsRng.fill_bytes(&mut buf);
    buf
}

/// `bytes` random bytes from the OS as lowercase hex (easy to read out and type).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs argon2 on a few dedicated threads. Each run takes ~19 MiB and tens of milliseconds;
/// on tokio's blocking pool a reconnect storm would spread that over hundreds of threads whose
/// allocator arenas keep the memory (seen: 500 MB after 1,000 handshakes), and unbounded it
/// would starve every other task. The threads end when the last clone is dropped.
#[derive(Debug, Clone)]
pub struct PasswordHasher {
    jobs: std::sync::mpsc::Sender<Job>,
    params: argon2::Params,
    /// A hash with `params`, verified against when a user does not exist.
    dummy: std::sync::Arc<String>,
}

type Job = Box<dyn FnOnce() + Send>;

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }
}

impl PasswordHasher {
    /// The same workers hashing new user passwords with `params`.
    pub fn with_params(mut self, params: argon2::Params) -> Self {
        self.dummy = std::sync::Arc::new(hash_password_with(&random_token(16), params.clone()).unwrap_or_default());
        self.params = params;
        self
    }

    /// A hash with this hasher's parameters, so a login for an unknown user costs what one for
    /// a real user does and timing does not tell them apart.
    pub fn dummy_hash(&self) -> &str {
        &self.dummy
    }

    /// `threads` argon2 workers.
    pub fn new(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = std::sync::Arc::clone(&queue);
            let spawned = std::thread::Builder::new().name(format!("argon2-{n}")).spawn(move || {
                loop {
                    // Hold the lock only to take a job, not while running it.
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start an argon2 thread");
            }
        }
        Self {
            jobs,
            params: argon2::Params::default(),
            dummy: std::sync::Arc::new(dummy_hash().to_owned()),
        }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .ok()?;
        rx.await.ok()
    }

    /// [`verify_password`] on the argon2 threads.
    pub async fn verify(&self, password: String, hash: String) -> bool {
        self.run(move || verify_password(&password, &hash))
            .await
            .unwrap_or(false)
    }

    /// [`hash_password_with`] this hasher's parameters, on the argon2 threads.
    pub async fn hash(&self, password: String) -> Result<String, String> {
        let params = self.params.clone();
        self.run(move || hash_password_with(&password, params).map_err(|e| e.to_string()))
            .await
            .unwrap_or_else(|| Err("argon2 workers are gone".into()))
    }

    /// [`hash_charger_password`] on the argon2 threads.
    pub async fn hash_charger(&self, password: String, memory_kib: u32) -> Result<String, String> {
        self.run(move || hash_charger_password(&password, memory_kib).map_err(|e| e.to_string()))
            .await
            .unwrap_or_else(|| Err("argon2 workers are gone".into()))
    }
}

/// SHA-256 of an API token, hex: tokens are 256 random bits, so a fast hash is enough and
/// the database never holds a usable token.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A hash to verify against when the user does not exist, so timing does not tell.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_token(16)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn charger_hashes_are_light_but_verify_the_same_way() {
        let hash = hash_charger_password("0123456789abcdef-charger", 256).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=256,t=1,p=1$"), "{hash}");
        assert!(verify_password("0123456789abcdef-charger", &hash));
        assert!(!verify_password("0123456789abcdef-chargeR", &hash));
    }

    #[test]
    fn generated_secrets_hash_fast_salted_and_verify() {
        let secret = random_password(32);
        let hash = hash_generated_secret(&secret);
        assert!(hash.starts_with("$voltgate-sha256$"), "{hash}");
        assert_ne!(hash, hash_generated_secret(&secret), "a fresh salt each time");
        assert!(verify_password(&secret, &hash));
        assert!(!verify_password(&format!("{secret}x"), &hash));
        assert!(!verify_password(&secret, "$voltgate-sha256$AAAA$not-base64!"));
        assert!(!verify_password(&secret, "$voltgate-sha256$"));
    }

    #[test]
    fn tokens_are_random() {
        assert_ne!(random_token(16), random_token(16));
        assert_eq!(random_token(18).len(), 24);
    }
}
