//! One module per area of the console.

pub mod account;
pub mod audit;
pub mod campaigns;
pub mod chargers;
pub mod charging;
pub mod dashboard;
pub mod drivers;
pub mod login;
pub mod messages;
pub mod organisations;
pub mod registration;
pub mod sites;
pub mod tariffs;
pub mod tickets;
pub mod users;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum_extra::extract::cookie::CookieJar;
use maud::{Markup, html};
use serde::{Deserialize, Deserializer};

use super::session::Flash;
use super::{ConsoleError, PageResult};
use crate::http::error::ApiError;
use crate::services::ListQuery;
use crate::state::AppState;

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct Empty {}

/// Rows per page of the console's lists.
const PAGE: u64 = 100;

/// `?offset=&organisation_id=` of the list pages. Read leniently: a value that does not parse
/// is ignored rather than answered with an error page.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    #[serde(default, deserialize_with = "lenient_offset")]
    pub offset: Option<u64>,
    /// Only this organisation and its subtree.
    #[serde(default, deserialize_with = "lenient")]
    pub organisation_id: Option<i32>,
}

impl Paging {
    /// The list query of one console page.
    pub fn query(&self) -> ListQuery {
        ListQuery {
            limit: Some(PAGE),
            offset: self.offset,
            organisation_id: self.organisation_id,
        }
    }

    /// "Next" and "previous" links, when there is more.
    pub fn links(&self, path: &str, shown: usize) -> Markup {
        let offset = self.offset.unwrap_or(0);
        let org = self
            .organisation_id
            .map(|o| format!("&organisation_id={o}"))
            .unwrap_or_default();
        let sep = if path.contains('?') { '&' } else { '?' };
        html! {
            nav.paging aria-label="Pages" {
                @if offset > 0 { a href={ (path) (sep) "offset=" (offset.saturating_sub(PAGE)) (org) } { "← previous" } }
                @if shown as u64 == PAGE { a href={ (path) (sep) "offset=" (offset + PAGE) (org) } { "next →" } }
            }
        }
    }

    /// A form that narrows the list to one of `orgs` and its subtree (none for a single one).
    pub fn filter(&self, path: &str, orgs: &[(i32, String)]) -> Markup {
        html! {
            @if orgs.len() > 1 {
                form.filter method="get" action=(path) {
                    label for="org-filter" { "Organisation" }
                    select #org-filter name="organisation_id" {
                        option value="" { "All" }
                        @for (id, name) in orgs {
                            option value=(id) selected[self.organisation_id == Some(*id)] { (name) }
                        }
                    }
                    button type="submit" { "Show" }
                }
            }
        }
    }
}

/// An offset past the last possible page is ignored like any unreadable one.
pub(super) fn lenient_offset<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(lenient(d)?.filter(|o| *o <= crate::store::Page::MAX_OFFSET))
}

pub(super) fn lenient<'de, D: Deserializer<'de>, T: std::str::FromStr>(d: D) -> Result<Option<T>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    Ok(s.and_then(|s| s.trim().parse().ok()))
}

/// After a form: back to `back` with what happened. Refusals of the gate answer their own
/// status (404 outside the subtree, 403 inside without the permission) instead, and so do
/// server errors (monitoring should see them).
fn after_form<E: Into<ApiError>>(state: &AppState, outcome: Result<String, E>, back: &str) -> PageResult {
    let flash = match outcome {
        Ok(done) => Flash::ok(done),
        Err(e) => {
            let e: ApiError = e.into();
            if matches!(e.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) || e.status().is_server_error() {
                return Err(ConsoleError::Api(Box::new(e)));
            }
            Flash::error(e.message().to_owned())
        }
    };
    let jar = CookieJar::new().add(flash.cookie(super::session::secure(state)));
    Ok((jar, Redirect::to(back)).into_response())
}

/// [`after_form`] for a form whose success leads elsewhere (a new thing's page, the list
/// after a deletion): `done` names what happened and where to go; a refusal goes `back`.
fn after_form_to<T, E: Into<ApiError>>(
    state: &AppState,
    outcome: Result<T, E>,
    back: &str,
    done: impl FnOnce(T) -> (String, String),
) -> PageResult {
    match outcome {
        Ok(value) => {
            let (message, to) = done(value);
            after_form(state, Ok::<_, ApiError>(message), &to)
        }
        Err(e) => after_form(state, Err::<String, E>(e), back),
    }
}

/// A text field of a form, `None` when left empty.
fn optional<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    Ok(s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()))
}
