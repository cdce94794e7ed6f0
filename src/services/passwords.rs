//! The password policy for people's passwords: a minimum length (`accounts.password_min_length`)
//! and no easily guessed ones. Guessability is zxcvbn's estimate, whose dictionaries (shipped
//! inside the binary) hold the most common passwords, names and words; anything it rates
//! below "somewhat guessable" (score 2) is refused, and so are passwords built from the user
//! name or e-mail.

use zxcvbn::Score;

use super::{Error, Result, invalid};
use crate::state::AppState;

/// Checks `password` against the policy; `hints` are the user's own words (name, e-mail).
pub fn check(min_len: usize, password: &str, hints: &[&str]) -> Result<()> {
    if password.chars().count() < min_len {
        return Err(invalid("password", format!("must be at least {min_len} characters")));
    }
    if password.chars().count() > 256 {
        return Err(invalid("password", "must be at most 256 characters"));
    }
    let estimate = zxcvbn::zxcvbn(password, hints);
    if estimate.score() < Score::Two {
        let why = estimate
            .feedback()
            .and_then(|f| f.warning())
            .map_or_else(|| "too easy to guess".to_owned(), |w| w.to_string());
        return Err(invalid(
            "password",
            format!("too common or easy to guess ({why}); add words or characters"),
        ));
    }
    Ok(())
}

/// Checks a new password and hashes it with the configured argon2 parameters.
pub async fn hash_new(state: &AppState, password: &str, hints: &[&str]) -> Result<String> {
    check(state.config.accounts.password_min_length, password, hints)?;
    state.hasher.hash(password.to_owned()).await.map_err(Error::Internal)
}

/// [`hash_new`] with the user's own name and e-mail as the words it must not lean on.
pub async fn hash_for(state: &AppState, password: &str, user: &entity::user::Model) -> Result<String> {
    let mut hints = vec![user.username.as_str()];
    hints.extend(user.email.as_deref());
    hash_new(state, password, &hints).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_and_short_passwords_are_refused() {
        for bad in ["password123", "qwertyuiop", "1234567890", "iloveyou12", "short"] {
            assert!(check(10, bad, &[]).is_err(), "{bad} was accepted");
        }
        assert!(check(10, "correct horse battery staple", &[]).is_ok());
        assert!(check(10, "Tq8#vL2m!xR9", &[]).is_ok());
    }

    #[test]
    fn own_name_is_a_weak_password() {
        assert!(check(10, "sebastianvettel", &["sebastianvettel"]).is_err());
    }
}
