//! Browser sessions: an HttpOnly, SameSite=Strict cookie holding the same kind of token the
//! JSON API takes as a bearer token, a CSRF token derived from it for every form, and one-shot
//! flash messages that survive the redirect after a form.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::ConsoleError;
use crate::access::Principal;
use crate::services;
use crate::state::AppState;

/// The session cookie.
pub const SESSION_COOKIE: &str = "voltgate_session";
/// Double-submit cookie of the login form (there is no session to derive a token from yet).
pub const LOGIN_COOKIE: &str = "voltgate_login";
/// A message for the next page shown (after a redirect).
const FLASH_COOKIE: &str = "voltgate_flash";
/// The hidden form field every POST must carry.
pub const CSRF_FIELD: &str = "csrf";
/// Largest form body accepted.
const FORM_LIMIT: usize = 64 * 1024;

/// A signed-in user, as every console page sees it.
pub struct Viewer {
    /// Who is signed in.
    pub principal: Principal,
    /// The session token (logout revokes it).
    pub token: String,
    /// What this session's forms must send back in [`CSRF_FIELD`].
    pub csrf: String,
    /// The message the previous form left, shown once.
    pub flash: Option<Flash>,
}

/// A one-shot message: what a form did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// Success (or failure).
    pub ok: bool,
    /// What to tell.
    pub text: String,
}

impl Flash {
    /// A success message.
    pub fn ok(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }

    /// A failure message.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            ok: false,
            text: text.into(),
        }
    }

    /// The cookie carrying it to the next page.
    pub fn cookie(&self, secure: bool) -> Cookie<'static> {
        let value = format!("{}{}", if self.ok { '+' } else { '-' }, self.text);
        cookie(FLASH_COOKIE, URL_SAFE_NO_PAD.encode(value), secure, Some(60))
    }

    fn parse(value: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (ok, text) = match text.split_at_checked(1)? {
            ("+", rest) => (true, rest),
            ("-", rest) => (false, rest),
            _ => return None,
        };
        Some(Self {
            ok,
            text: text.chars().take(500).collect(),
        })
    }
}

/// Whether the console's cookies are `Secure`: when voltgate serves HTTPS itself, or when
/// people reach it over HTTPS (`api.public_url`, e.g. behind a TLS-terminating proxy).
pub fn secure(state: &AppState) -> bool {
    state.config.api.tls || state.config.api.public_url.starts_with("https://")
}

/// The name a console cookie goes by: with the `__Host-` prefix when cookies are Secure, so
/// browsers refuse one planted from a sibling subdomain or a plain-HTTP page.
pub fn cookie_name(name: &'static str, secure: bool) -> String {
    if secure {
        format!("__Host-{name}")
    } else {
        name.to_owned()
    }
}

/// A console cookie from the request, by its name in this mode.
pub fn read_cookie(jar: &CookieJar, name: &'static str, secure: bool) -> Option<String> {
    jar.get(&cookie_name(name, secure)).map(|c| c.value().to_owned())
}

/// A cookie of the console: host-only, whole site, HttpOnly, SameSite=Strict, Secure over TLS.
pub fn cookie(name: &'static str, value: String, secure: bool, max_age_s: Option<i64>) -> Cookie<'static> {
    let mut c = Cookie::new(cookie_name(name, secure), value);
    c.set_path("/");
    c.set_http_only(true);
    c.set_same_site(SameSite::Strict);
    c.set_secure(secure);
    if let Some(s) = max_age_s {
        c.set_max_age(time::Duration::seconds(s.max(0)));
    }
    c
}

/// A cookie that removes `name`.
pub fn removal(name: &'static str, secure: bool) -> Cookie<'static> {
    cookie(name, String::new(), secure, Some(0))
}

/// The flash cookie's removal, once its message has been shown.
pub fn flash_removal(secure: bool) -> Cookie<'static> {
    removal(FLASH_COOKIE, secure)
}

/// The CSRF token of a session: a hash of its secret token, so it needs no storage and an
/// attacker who cannot read the HttpOnly cookie cannot compute it.
pub fn csrf_for(token: &str) -> String {
    let digest = Sha256::new()
        .chain_update(b"voltgate console csrf\0")
        .chain_update(token.as_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(digest)
}

/// Constant-time comparison of a submitted token with the expected one.
pub fn same_token(submitted: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(submitted.as_bytes().ct_eq(expected.as_bytes()))
}

/// A signed-in user whose session may be one that can only enrol two-factor (the enrolment
/// pages and logout).
pub struct Enrolling(pub Viewer);

async fn viewer(parts: &Parts, state: &AppState) -> Result<(Viewer, bool), ConsoleError> {
    let jar = CookieJar::from_headers(&parts.headers);
    let token = read_cookie(&jar, SESSION_COOKIE, secure(state))
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or(ConsoleError::LoginRequired)?;
    let session = services::auth::authenticate(state, &token).await.map_err(|e| {
        tracing::debug!(error = %e, "console session refused");
        ConsoleError::LoginRequired
    })?;
    let viewer = Viewer {
        principal: session.principal,
        csrf: csrf_for(&token),
        token,
        flash: read_cookie(&jar, FLASH_COOKIE, secure(state)).and_then(|v| Flash::parse(&v)),
    };
    Ok((viewer, session.full))
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match viewer(parts, state).await? {
            (v, true) => Ok(v),
            (_, false) => Err(ConsoleError::EnrolmentRequired),
        }
    }
}

impl FromRequestParts<AppState> for Enrolling {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        viewer(parts, state).await.map(|(v, _)| Enrolling(v))
    }
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// Reads a urlencoded form body: the CSRF token it carries (empty when absent), and the form,
/// to be looked at only once the token is checked.
pub async fn read_form<T: DeserializeOwned>(
    body: axum::body::Body,
) -> Result<(String, Result<T, ConsoleError>), ConsoleError> {
    let bytes = axum::body::to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| ConsoleError::BadForm("the form is too large".into()))?;
    let csrf = serde_urlencoded::from_bytes::<CsrfOnly>(&bytes).map_or_else(|_| String::new(), |c| c.csrf);
    // The token is the transport's, not the form's: forms that are API bodies refuse unknown
    // fields.
    let form = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .map(|pairs| pairs.into_iter().filter(|(k, _)| k != CSRF_FIELD).collect::<Vec<_>>())
        .and_then(|pairs| serde_urlencoded::to_string(pairs).map_err(|e| serde::de::Error::custom(e.to_string())))
        .and_then(|rest| serde_urlencoded::from_str(&rest))
        .map_err(|e| ConsoleError::BadForm(e.to_string()));
    Ok((csrf, form))
}

/// A form posted by a signed-in user (`V`: [`Viewer`], or [`Enrolling`] for the few forms an
/// enrolling session may post), its CSRF token checked before the form is looked at.
pub struct Submitted<T, V = Viewer> {
    /// Who posted it.
    pub viewer: V,
    /// The parsed form.
    pub form: T,
}

/// What a [`Submitted`] form checks its token against.
pub trait HasCsrf {
    /// The session's CSRF token.
    fn csrf(&self) -> &str;
    /// Who the session is, for the audit row of a refusal.
    fn principal(&self) -> &Principal;
}

impl HasCsrf for Viewer {
    fn csrf(&self) -> &str {
        &self.csrf
    }

    fn principal(&self) -> &Principal {
        &self.principal
    }
}

impl HasCsrf for Enrolling {
    fn csrf(&self) -> &str {
        &self.0.csrf
    }

    fn principal(&self) -> &Principal {
        &self.0.principal
    }
}

/// The second line behind SameSite and the token: a browser that says where a form comes
/// from (`Sec-Fetch-Site`, `Origin`) must say it comes from here. Requests that say nothing
/// (old browsers, scripts) are left to the token.
pub fn same_origin(parts: &Parts, state: &AppState) -> bool {
    use axum::http::header::{HOST, ORIGIN};
    let header = |name| parts.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = header(axum::http::HeaderName::from_static("sec-fetch-site")) {
        if !matches!(site, "same-origin" | "none") {
            return false;
        }
    }
    // Browsers send `Origin: null` under our `Referrer-Policy: no-referrer`; then
    // `Sec-Fetch-Site` above has spoken.
    let Some(origin) = header(ORIGIN).filter(|o| *o != "null") else {
        return true;
    };
    let public = state.config.api.public_url.trim_end_matches('/');
    let host = origin.split_once("://").map_or("", |(_, h)| h);
    origin == public || header(HOST).is_some_and(|h| h.eq_ignore_ascii_case(host))
}

impl<T, V> FromRequest<AppState> for Submitted<T, V>
where
    T: DeserializeOwned + Send,
    V: FromRequestParts<AppState, Rejection = ConsoleError> + HasCsrf + Send,
{
    type Rejection = ConsoleError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let viewer = V::from_request_parts(&mut parts, state).await?;
        let (csrf, form) = read_form(body).await?;
        let why = if !same_origin(&parts, state) {
            Some("cross-site form")
        } else if !same_token(&csrf, viewer.csrf()) {
            Some("missing or wrong CSRF token")
        } else {
            None
        };
        if let Some(why) = why {
            tracing::info!(path = %parts.uri.path(), %why, "console form refused");
            let target = services::Target::new(format!("console:{}", parts.uri.path()));
            let p = viewer.principal().clone();
            services::Audit::new(&p, "console.form", target)
                .detail(why)
                .denied(state)
                .await;
            return Err(ConsoleError::Csrf);
        }
        Ok(Submitted { form: form?, viewer })
    }
}
