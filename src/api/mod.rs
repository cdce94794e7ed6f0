//! The back-office HTTP API (axum). Thin: each handler parses, calls one service function with
//! the authenticated principal and maps the result; errors become JSON in [`error`]. The
//! OpenAPI document is generated from the handlers' annotations.

#[macro_use]
mod crud;

mod access_rules;
mod audit;
mod auth;
mod campaigns;
mod chargers;
mod commands;
mod dashboard;
mod driver_groups;
mod drivers;
mod id_tokens;
mod invitations;
mod organisations;
mod sites;
mod tariffs;
mod tickets;
mod transactions;
mod users;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderValue;
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::http::ApiError;
use crate::http::body_deadline::{BodyRules, whole_body_in_time};
use crate::state::AppState;

/// Request bodies larger than this answer 413.
const BODY_LIMIT: usize = 1024 * 1024;
/// Requests taking longer answer 408 (remote commands wait at most `ocpp.call_timeout_s`).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(OpenApi)]
#[openapi(
    info(title = "voltgate", description = "OCPP central system back-office API. Every call except login passes one role gate: 404 outside your subtrees, 403 inside without the permission."),
    modifiers(&BearerAuth),
    // Referenced from `IntoResponses` types, which do not register what they name.
    components(schemas(crate::commands::CommandReply, crate::http::error::ErrorBody)),
    tags(
        (name = "auth"), (name = "dashboard"), (name = "organisations"), (name = "users"), (name = "sites"),
        (name = "chargers"), (name = "commands"), (name = "drivers"),
        (name = "id-tokens"), (name = "access"), (name = "transactions"), (name = "tickets"), (name = "campaigns"), (name = "webhooks"), (name = "audit")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The error answers any operation of a kind can give, added to the document wherever a
/// handler's annotation does not list them itself: so the document states every status the
/// server can answer, from the same facts the extractors and the gate act on.
struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{Ref, RefOr, ResponseBuilder};
        let error = |why: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(why)
                    .content(
                        "application/json",
                        utoipa::openapi::ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                (false, &mut item.get),
                (true, &mut item.put),
                (true, &mut item.post),
                (true, &mut item.delete),
                (true, &mut item.patch),
            ];
            for (writes, op) in ops {
                let Some(op) = op else { continue };
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let params: Vec<_> = op
                    .parameters
                    .iter()
                    .flatten()
                    .filter_map(|p| match p {
                        RefOr::T(p) => Some(p.parameter_in.clone()),
                        RefOr::Ref(_) => None,
                    })
                    .collect();
                let mut wanted = vec![("500", "internal error (details are logged, not sent)")];
                if secured {
                    wanted.push(("401", "no valid bearer token (`unauthenticated`)"));
                    wanted.push(("403", "not permitted, or two-factor enrolment required first"));
                }
                if !params.is_empty() {
                    wanted.push(("400", "a path or query parameter that does not parse (`bad_request`)"));
                }
                if secured && params.iter().any(|p| matches!(p, ParameterIn::Path)) {
                    wanted.push(("404", "no such resource, or outside the caller's subtrees"));
                }
                if op.request_body.is_some() || params.iter().any(|p| matches!(p, ParameterIn::Query)) {
                    wanted.push(("422", "a field fails validation (`validation_failed`, naming `field`)"));
                }
                if op.request_body.is_some() {
                    wanted.push(("413", "request body over 1 MiB (`payload_too_large`)"));
                }
                if secured && writes {
                    wanted.push(("409", "in conflict with the current state, or with a concurrent change"));
                }
                for (status, why) in wanted {
                    op.responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| error(why));
                }
            }
        }
    }
}

/// Every documented route, with the OpenAPI paths they contribute.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(organisations::router())
        .merge(users::router())
        .merge(sites::router())
        .merge(dashboard::router())
        .merge(chargers::router())
        .merge(commands::router())
        .merge(drivers::router())
        .merge(driver_groups::router())
        .merge(id_tokens::router())
        .merge(access_rules::router())
        .merge(tariffs::router())
        .merge(transactions::router())
        .merge(tickets::router())
        .merge(campaigns::router())
        .merge(webhooks::router())
        .merge(audit::router())
        .merge(invitations::router())
}

/// `GET /healthz`: `ok`, or 503 `degraded` while the database does not answer (a load
/// balancer then sends the back office elsewhere; chargers stay connected either way).
async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    if state.store.reachable().await {
        axum::Json(serde_json::json!({"status": "ok"})).into_response()
    } else {
        let body = serde_json::json!({"status": "degraded", "database": "unavailable"});
        (axum::http::StatusCode::SERVICE_UNAVAILABLE, axum::Json(body)).into_response()
    }
}

/// `GET /metrics`: Prometheus (OpenMetrics) text. Counts only, no charger ids; keep it on an
/// internal network like the rest of the API.
async fn metrics(axum::extract::State(state): axum::extract::State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.metrics.encode() {
        Ok(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(_) => ApiError::from(crate::services::Error::Internal("metrics did not encode".into())).into_response(),
    }
}

/// The request span: method and path, with the secret part of invitation links cut off
/// (the path is the credential there).
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let path = request.uri().path();
    let shown = match path.find("/invitations/") {
        Some(at) => &path[..at + "/invitations/".len()],
        None => path,
    };
    tracing::debug_span!("request", method = %request.method(), path = %shown)
}

/// Headers every answer carries unless a route set its own (the invitation page sets a CSP
/// that lets its inline script run). No CORS headers: browsers keep other origins out.
fn with_security_headers(router: Router, hsts: bool) -> Router {
    use axum::http::header;
    let set = |name, value: &'static str| SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value));
    let router = router
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
        .layer(set(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .layer(set(header::CACHE_CONTROL, "no-store"));
    if hsts {
        router.layer(set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000"))
    } else {
        router
    }
}

/// Path segments and query values of the API that are whole numbers written as decimals
/// (`3.0`, which JSON and the document's `integer` ids allow) as plain integers, so they reach
/// the same route and parse as the same parameter.
pub fn whole_number_ids(mut request: axum::extract::Request) -> axum::extract::Request {
    fn whole(seg: &str) -> Option<&str> {
        seg.split_once('.').and_then(|(int, frac)| {
            let digits = int.strip_prefix('-').unwrap_or(int);
            (!digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !frac.is_empty()
                && frac.bytes().all(|b| b == b'0'))
            .then_some(int)
        })
    }
    let uri = request.uri();
    let has_dot = uri.path().contains('.') || uri.query().is_some_and(|q| q.contains('.'));
    if !uri.path().starts_with("/api/") || !has_dot {
        return request;
    }
    let path: Vec<&str> = uri.path().split('/').map(|seg| whole(seg).unwrap_or(seg)).collect();
    let mut rewritten = path.join("/");
    if let Some(query) = uri.query() {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, value)) => format!("{key}={}", whole(value).unwrap_or(value)),
                None => pair.to_owned(),
            })
            .collect();
        rewritten = format!("{rewritten}?{}", pairs.join("&"));
    }
    if let Ok(pq) = rewritten.parse::<axum::http::uri::PathAndQuery>() {
        let mut parts = request.uri().clone().into_parts();
        parts.path_and_query = Some(pq);
        if let Ok(uri) = axum::http::Uri::from_parts(parts) {
            *request.uri_mut() = uri;
        }
    }
    request
}

/// A handler that panicked still answers: a JSON 500, the panic in the log (not the body).
fn panicked(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    ApiError::from(crate::services::Error::Internal(format!("handler panicked: {what}"))).into_response()
}

/// The whole HTTP application: the API, its document, `console` (the web console's routes,
/// passed in so the API does not depend on it) and the layers every answer goes through.
pub fn router(state: AppState, console: Router<AppState>) -> Router {
    let hsts = state.config.api.tls;
    let body_rules = BodyRules {
        deadline: Duration::from_secs(state.config.api.body_timeout_s),
        limit: BODY_LIMIT,
    };
    let (router, mut openapi) = routes().split_for_parts();
    StandardErrors.modify(&mut openapi);
    let openapi = Arc::new(openapi);
    let app = router
        .merge(console)
        .route(
            "/api/openapi.json",
            get(move || async move { axum::Json(openapi.as_ref().clone()) }),
        )
        .route("/invitations/{token}", get(invitations::page))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .fallback(|| async { ApiError::no_route() })
        .layer(CatchPanicLayer::custom(panicked))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(body_rules, whole_body_in_time))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state);
    with_security_headers(app, hsts)
}
