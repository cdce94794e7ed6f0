//! The back-office web console, served by the same binary at `/`: server-rendered pages (maud)
//! with a little embedded CSS and script, no build step and nothing fetched from the internet.
//! Pages call the same `services` and `commands` the JSON API calls, with the principal of the
//! session cookie, so every action passes the same gate; hiding a button is only a courtesy.
//! Errors become HTML pages in [`ConsoleError`], from the API's own status mapping.

mod layout;
mod live;
mod pages;
mod session;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::html;

use crate::access::{Permission, Principal};
use crate::http::error::ApiError;
use crate::services::{self, ListQuery};
use crate::state::AppState;

/// Why a console request could not be served; each variant has one HTML answer.
#[derive(Debug)]
pub enum ConsoleError {
    /// No valid session: to the login page.
    LoginRequired,
    /// The session may only enrol two-factor: to the enrolment page.
    EnrolmentRequired,
    /// A form without this session's CSRF token.
    Csrf,
    /// A form that did not parse.
    BadForm(String),
    /// What the services or a charger answered, as the API maps it.
    Api(Box<ApiError>),
}

impl From<services::Error> for ConsoleError {
    fn from(e: services::Error) -> Self {
        ConsoleError::Api(Box::new(e.into()))
    }
}

impl From<crate::commands::Error> for ConsoleError {
    fn from(e: crate::commands::Error) -> Self {
        ConsoleError::Api(Box::new(e.into()))
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ConsoleError::LoginRequired => return Redirect::to("/login").into_response(),
            ConsoleError::EnrolmentRequired => return Redirect::to("/account/2fa").into_response(),
            ConsoleError::Csrf => (
                StatusCode::FORBIDDEN,
                "This form has expired or did not come from this console. Reload the page and try again.".to_owned(),
            ),
            ConsoleError::BadForm(why) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("The form was not filled in correctly: {why}"),
            ),
            ConsoleError::Api(e) => (e.status(), e.message().to_owned()),
        };
        let title = match status {
            StatusCode::FORBIDDEN => "403 Not permitted".to_owned(),
            StatusCode::NOT_FOUND => "404 Not found".to_owned(),
            s => format!("{} {}", s.as_u16(), s.canonical_reason().unwrap_or("Error")),
        };
        let markup = layout::shell(
            &title,
            html! {
                main.error {
                    h1 { (title) }
                    p { (message) }
                    p { a href="/" { "Back to the dashboard" } }
                }
            },
        );
        layout::html_response(status, markup)
    }
}

/// Console handler result.
pub type PageResult = Result<Response, ConsoleError>;

/// Organisations the principal may pick in a form for `permission`: those it can list where it
/// holds the permission, or, for roles that cannot list organisations, its memberships'.
async fn org_choices(
    state: &AppState,
    p: &Principal,
    permission: Permission,
) -> Result<Vec<(i32, String)>, ConsoleError> {
    let listed = if layout::holds(p, Permission::OrganisationsRead) {
        services::organisations::list(state, p, &ListQuery::largest(None))
            .await?
            .into_iter()
            .map(|o| (o.id, o.name, o.path))
            .collect()
    } else {
        let mut own = Vec::new();
        for m in p.memberships() {
            if let Some(org) = state
                .store
                .organisation(m.organisation_id)
                .await
                .map_err(services::Error::from)?
            {
                own.push((org.id, org.name, org.path));
            }
        }
        own
    };
    let mut choices: Vec<(i32, String)> = listed
        .into_iter()
        .filter(|(id, _, path)| p.allows(permission, crate::access::OrgRef { id: *id, path }))
        .map(|(id, name, _)| (id, name))
        .collect();
    choices.sort();
    choices.dedup();
    Ok(choices)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// The console's routes (merged beside the API's).
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(account_routes())
        .merge(charger_routes())
        .merge(charging_routes())
        .merge(organisation_routes())
}

/// Assets, the live stream, logging in and the viewer's own account.
fn account_routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route(
            "/assets/console.css",
            get(|| async { asset("text/css; charset=utf-8", include_str!("assets/console.css")) }),
        )
        .route(
            "/assets/console.js",
            get(|| async { asset("text/javascript; charset=utf-8", include_str!("assets/console.js")) }),
        )
        .route("/live", get(live::stream))
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", post(login::logout))
        .route("/account", get(account::show))
        .route("/account/password", post(account::change_password))
        .route("/account/sessions/{id}", post(account::end_session))
        .route("/account/subscriptions", post(account::subscribe))
        .route("/account/subscriptions/{id}/delete", post(account::unsubscribe))
        .route("/account/2fa", get(login::two_factor).post(login::enrol))
        .route("/account/2fa/confirm", post(login::confirm))
        .route("/account/2fa/disable", post(login::disable))
        .route("/account/2fa/recovery-codes", post(login::recovery_codes))
}

/// The dashboard, chargers and campaigns.
fn charger_routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/", get(dashboard::show))
        .route("/chargers", get(chargers::list).post(registration::register))
        .route("/chargers/{id}", get(chargers::show))
        .route("/chargers/{id}/messages", get(messages::show))
        .route("/chargers/{id}/messages.csv", get(messages::export_csv))
        .route("/chargers/{id}/messages.json", get(messages::export_json))
        .route("/chargers/{id}/reset", post(chargers::reset))
        .route("/chargers/{id}/password", post(chargers::password))
        .route("/chargers/{id}/certificate", post(chargers::certificate))
        .route("/chargers/{id}/variables", post(chargers::set_variable))
        .route("/chargers/{id}/unlock", post(chargers::unlock))
        .route("/chargers/{id}/firmware", post(chargers::firmware))
        .route("/chargers/{id}/availability", post(chargers::availability))
        .route("/chargers/{id}/trigger", post(chargers::trigger))
        .route("/chargers/{id}/local-list", post(chargers::sync_local_list))
        .route("/campaigns", get(campaigns::list).post(campaigns::create))
        .route("/campaigns/{id}", get(campaigns::show))
        .route("/campaigns/{id}/{how}", post(campaigns::steer))
}

/// Tickets, tokens, drivers and groups, the charging log and tariffs.
fn charging_routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/tickets", get(tickets::list).post(tickets::create))
        .route("/tickets/{id}", post(tickets::set_status))
        .route("/tokens", get(charging::tokens).post(charging::create_token))
        .route("/tokens/{id}", get(charging::token).post(charging::assign_token))
        .route("/tokens/{id}/status", post(charging::set_token_status))
        .route("/drivers", get(drivers::list).post(drivers::create))
        .route("/drivers/{id}", post(drivers::update))
        .route("/drivers/{id}/delete", post(drivers::delete))
        .route("/groups", get(drivers::groups).post(drivers::create_group))
        .route("/groups/{id}", post(drivers::rename_group))
        .route("/groups/{id}/delete", post(drivers::delete_group))
        .route("/transactions", get(charging::transactions))
        .route("/transactions.csv", get(charging::transactions_csv))
        .route("/billing", get(tariffs::list))
        .route("/tariffs", post(tariffs::create))
        .route("/tariffs/{id}", post(tariffs::update))
        .route("/tariffs/{id}/delete", post(tariffs::delete))
}

/// Users, the audit log, organisations, sites and webhooks.
fn organisation_routes() -> Router<AppState> {
    use pages::*;
    Router::new()
        .route("/users", get(users::list).post(users::create))
        .route("/users/roles", post(users::change_role))
        .route("/audit", get(audit::list))
        .route("/organisations", get(organisations::tree).post(organisations::create))
        .route(
            "/organisations/{id}",
            get(organisations::show).post(organisations::update),
        )
        .route("/organisations/{id}/delete", post(organisations::delete))
        .route("/organisations/{id}/webhooks", post(organisations::create_webhook))
        .route("/organisations/{id}/subscriptions", post(organisations::subscribe))
        .route(
            "/organisations/{id}/subscriptions/{sub}/delete",
            post(organisations::unsubscribe),
        )
        .route("/sites", get(sites::list).post(sites::create))
        .route("/sites/{id}", get(sites::show).post(sites::update))
        .route("/sites/{id}/delete", post(sites::delete))
        .route("/access-rules", post(sites::create_rule))
        .route("/access-rules/{id}/delete", post(sites::delete_rule))
        .route("/webhooks/{id}", get(organisations::deliveries))
        .route("/webhooks/{id}/delete", post(organisations::delete_webhook))
}
