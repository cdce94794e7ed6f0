//! Registering a charger from the console: the form on the chargers list, the chargers waiting
//! unassigned (for those who may adopt them), and the page that shows what to type into the
//! charger, its generated password included, once.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use maud::{Markup, html};
use serde::Deserialize;

use super::optional;
use crate::access::Permission;
use crate::console::layout::{charger_href, csrf_input, or_dash, org_select, page, when};
use crate::console::session::{Flash, Submitted, Viewer};
use crate::console::{ConsoleError, PageResult, org_choices};
use crate::ocpp::ChargerId;
use crate::services::chargers::{self, ChargerOut, NewCharger};
use crate::services::{self, ListQuery, invalid, sites};
use crate::state::AppState;

/// How many waiting chargers the list shows.
const WAITING: u64 = 100;

/// The register and adopt sections of the chargers list; nothing for those who may do neither.
pub async fn sections(state: &AppState, viewer: &Viewer) -> Result<Markup, ConsoleError> {
    let p = &viewer.principal;
    let orgs = org_choices(state, p, Permission::ChargersWrite).await?;
    if orgs.is_empty() {
        return Ok(html! {});
    }
    let sites = sites::list(state, p, &ListQuery::largest(None)).await?;
    let waiting = chargers::unassigned(state, p, WAITING).await?;
    Ok(html! {
        h2 { "Register a charger" }
        form.stacked method="post" action="/chargers" {
            (csrf_input(viewer))
            label for="reg-id" { "Charge point identity " small { "(as the charger sends it: 1 to 48 characters, no / or :)" } }
            input #reg-id name="id" required maxlength="48" autocomplete="off" pattern="[^/:]+";
            (org_select("reg-org", &orgs))
            label for="reg-site" { "Site " small { "(optional)" } }
            select #reg-site name="site_id" {
                option value="" { "none" }
                @for s in &sites { option value=(s.id) { (s.name) } }
            }
            label for="reg-profile" { "Security profile" }
            select #reg-profile name="security_profile" {
                option value="" { "the server's (" (state.config.ocpp.security_profile) ")" }
                option value="1" { "1: password (HTTP Basic)" }
                option value="2" { "2: TLS and password" }
                option value="3" { "3: TLS client certificate" }
            }
            label for="reg-password" { "Password " small { "(16 to 40 characters; leave empty and voltgate makes one: recommended)" } }
            input #reg-password name="password" type="password" minlength="16" maxlength="40" autocomplete="new-password";
            button type="submit" { "Register" }
        }
        @if !waiting.is_empty() {
            h2 { "Waiting to be adopted" }
            p.hint { "These connected without being registered and were told to wait (BootNotification Pending)." }
            table {
                thead { tr { th { "Charger" } th { "Model" } th { "Last seen" } th { "Adopt into" } } }
                tbody { @for c in &waiting {
                    tr {
                        td { (c.id) }
                        td { (or_dash(c.vendor.as_deref())) " " (c.model.as_deref().unwrap_or_default()) }
                        td { (when(c.last_seen_at)) }
                        td {
                            form.inline method="post" action="/chargers" {
                                (csrf_input(viewer))
                                input type="hidden" name="id" value=(c.id);
                                select name="organisation_id" aria-label={ "Organisation for " (c.id) } {
                                    @for (id, name) in &orgs { option value=(id) { (name) } }
                                }
                                button type="submit" { "Adopt" }
                            }
                        }
                    }
                } }
            }
        }
    })
}

/// The register (or adopt) form.
#[derive(Debug, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    id: String,
    organisation_id: i32,
    #[serde(default, deserialize_with = "super::lenient")]
    site_id: Option<i32>,
    #[serde(default, deserialize_with = "super::lenient")]
    security_profile: Option<u8>,
    #[serde(default, deserialize_with = "optional")]
    password: Option<String>,
}

/// `POST /chargers`: registers or adopts, then shows what to type into the charger. The
/// generated password is on that page only (not in a cookie, not cached).
pub async fn register(State(state): State<AppState>, s: Submitted<RegisterForm>) -> PageResult {
    let f = s.form;
    let outcome = async {
        let id = ChargerId::parse(f.id.trim()).map_err(|e| invalid("id", e.to_string()))?;
        let input = NewCharger {
            id,
            organisation_id: f.organisation_id,
            site_id: f.site_id,
            password: f.password,
            security_profile: f.security_profile,
            local_list: None,
        };
        chargers::create(&state, &s.viewer.principal, input).await
    }
    .await;
    let c = match outcome {
        Ok(c) => c,
        Err(e) => return super::after_form(&state, Err::<String, services::Error>(e), "/chargers"),
    };
    let mut viewer = s.viewer;
    viewer.flash = Some(Flash::ok(format!("{} registered", c.id)));
    let body = instructions(&state, &c);
    let mut response = page(&state, &viewer, "/chargers", &format!("Connect {}", c.id), body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The values a technician types into the charger.
fn instructions(state: &AppState, c: &ChargerOut) -> Markup {
    let ocpp = &state.config.ocpp;
    let profile = c
        .security_profile
        .map_or(ocpp.security_profile, |p| u8::try_from(p).unwrap_or(1));
    let host = state
        .config
        .api
        .public_url
        .parse::<axum::http::Uri>()
        .ok()
        .and_then(|u| u.host().map(str::to_owned))
        .unwrap_or_else(|| "HOST".to_owned());
    let url = match (profile, ocpp.tls_listen) {
        (0 | 1, _) => Some(format!("ws://{host}:{}/ocpp/", ocpp.listen.port())),
        (_, Some(tls)) => Some(format!("wss://{host}:{}/ocpp/", tls.port())),
        (_, None) => None,
    };
    html! {
        p { "Type these into the charger's OCPP settings (its web page or the installer's app)." }
        dl.facts {
            dt { "CSMS URL" }
            dd {
                @match &url {
                    Some(url) => { code #csms-url { (url) } " " button.copy type="button" data-copy="csms-url" { "Copy" } },
                    None => "this server has no wss:// listener yet (ocpp.tls_listen): profiles 2 and 3 cannot connect",
                }
            }
            dt { "Charge point identity" } dd { code { (c.id) } " " small.hint { "(the charger adds it to the URL: " (url.as_deref().unwrap_or("…/ocpp/")) (c.id) ")" } }
            dt { "Security profile" } dd { (profile) }
            @if profile < 3 {
                dt { "Basic auth user" } dd { code { (c.id) } }
                dt { "Basic auth password" }
                dd {
                    @match &c.password {
                        Some(password) => {
                            code #charger-password { (password) } " "
                            button.copy type="button" data-copy="charger-password" { "Copy" }
                            br; strong { "Shown this once." } " voltgate keeps only a hash of it."
                        },
                        None => "the one you chose",
                    }
                }
            }
            dt { "OCPP version" } dd { "1.6 (ocpp1.6) or 2.0.1 (ocpp2.0.1), whichever the charger offers" }
        }
        @if profile == 3 {
            h2 { "Profile 3: a client certificate instead of a password" }
            p { "The charger connects on wss:// with a certificate whose subject CN is its identity: one signed by your CA (tls.client_ca_file), or one from voltgate's own CA:" }
            ol {
                li { "register it with profile 1 or 2, so it can connect with a password first;" }
                li { "on its page, under Security, ask it for a certificate: voltgate's CA signs the request the charger makes;" }
                li { "install the CSMS root certificate the charger should trust, then raise its profile to 3 there; it comes back on wss:// with its certificate, and the password no longer admits it." }
            }
        }
        p { a href=(charger_href(&c.id)) { "Go to " (c.id) "'s page" } " · " a href="/chargers" { "Back to the chargers" } }
    }
}
