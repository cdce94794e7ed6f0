//! Organisations: the tree as a tree (collapsible, charger counts per node), and one
//! organisation's page: rename, move, two-factor, automatic tickets, delete when empty, a child
//! below it, its webhooks (with each one's delivery log) and the viewer's own e-mail alerts
//! for it. Every form goes through the same services as the API.

use std::fmt::Write;

use axum::extract::{Query, State};
use entity::values::{DeliveryState, WebhookEvent};
use maud::{Markup, PreEscaped, html};
use sea_orm::Iterable;
use serde::Deserialize;

use super::{Empty, Paging, after_form, after_form_to, optional};
use crate::access::{OrgRef, Permission};
use crate::console::layout::{badge, charger_href, csrf_input, delete_button, empty, or_dash, page, when};
use crate::console::session::{Flash, Submitted, Viewer};
use crate::console::{ConsoleError, PageResult, org_choices};
use crate::http::extract::Path;
use crate::services::organisations::{self, NewOrganisation, OrganisationOut, OrganisationPatch, TreeNode};
use crate::services::webhooks::{self, NewSubscriptionIn, NewWebhookIn};
use crate::services::{self, ListQuery, invalid};
use crate::state::AppState;

/// The console path of an organisation's page.
pub fn href(id: i32) -> String {
    format!("/organisations/{id}")
}

/// `GET /organisations`
pub async fn tree(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    let p = &viewer.principal;
    let nodes = organisations::tree(&state, p).await?;
    let parents = org_choices(&state, p, Permission::OrganisationsCreate).await?;
    let body = html! {
        @if nodes.is_empty() { (empty("organisations")) } @else {
            p.hint { "Counts are of the chargers you may see at or below each organisation." }
            (tree_markup(&nodes))
        }
        @if !parents.is_empty() {
            h2 { "New organisation" }
            (create_form(&viewer, &parents, None))
        }
    };
    Ok(page(&state, &viewer, "/organisations", "Organisations", body))
}

/// The tree as nested lists, a `<details>` for every node with children. Built without
/// recursion, so a tree of any depth renders: `nodes` come parent before children (path
/// order), and a stack holds the paths still open.
fn tree_markup(nodes: &[TreeNode]) -> Markup {
    let mut out = String::from("<ul class=\"tree\">");
    let mut open: Vec<&str> = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        let path = node.org.path.as_str();
        while open.last().is_some_and(|top| !path.starts_with(top)) {
            open.pop();
            out.push_str("</ul></details></li>");
        }
        let has_children = nodes.get(i + 1).is_some_and(|next| next.org.path.starts_with(path));
        let label = html! {
            a href=(href(node.org.id)) { (node.org.name) }
            " "
            span.counts {
                (node.chargers) " chargers · " (node.online) " online"
                @if node.faulted > 0 { " · " (badge(format!("{} faulted", node.faulted))) }
            }
        };
        if has_children {
            let _ = write!(out, "<li><details open><summary>{}</summary><ul>", label.into_string());
            open.push(path);
        } else {
            let _ = write!(out, "<li>{}</li>", label.into_string());
        }
    }
    for _ in open {
        out.push_str("</ul></details></li>");
    }
    out.push_str("</ul>");
    PreEscaped(out)
}

/// A form that creates an organisation below one of `parents` (`fixed`: below that one only).
fn create_form(viewer: &Viewer, parents: &[(i32, String)], fixed: Option<i32>) -> Markup {
    html! {
        form.stacked method="post" action="/organisations" {
            (csrf_input(viewer))
            label for="new-org-name" { "Name" }
            input #new-org-name name="name" required maxlength="200";
            @if let Some(parent) = fixed {
                input type="hidden" name="parent_id" value=(parent);
            } @else {
                label for="new-org-parent" { "Below" }
                select #new-org-parent name="parent_id" required {
                    @for (id, name) in parents { option value=(id) { (name) } }
                }
            }
            button type="submit" { "Create organisation" }
        }
    }
}

/// The new-organisation form.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    parent_id: i32,
}

/// `POST /organisations`
pub async fn create(State(state): State<AppState>, s: Submitted<CreateForm>) -> PageResult {
    let input = NewOrganisation {
        name: s.form.name.trim().to_owned(),
        parent_id: s.form.parent_id,
    };
    let outcome = organisations::create(&state, &s.viewer.principal, input).await;
    after_form_to(&state, outcome, "/organisations", |org| {
        (format!("{} created", org.name), href(org.id))
    })
}

/// `GET /organisations/{id}`
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i32>) -> PageResult {
    render(&state, &viewer, id).await
}

async fn render(state: &AppState, viewer: &Viewer, id: i32) -> PageResult {
    let p = &viewer.principal;
    let org = organisations::get(state, p, id).await?;
    let at = OrgRef {
        id: org.id,
        path: &org.path,
    };
    let manages = p.allows(Permission::OrganisationsCreate, at);
    let below = ListQuery::largest(Some(id));
    // The subtree (the move picker leaves it out: nothing moves below itself).
    let subtree = organisations::list(state, p, &below).await?;
    let own_subtree: std::collections::HashSet<i32> = subtree.iter().map(|o| o.id).collect();
    let children: Vec<&OrganisationOut> = subtree.iter().filter(|o| o.parent_id == Some(id)).collect();
    let parents = if manages {
        org_choices(state, p, Permission::OrganisationsCreate).await?
    } else {
        Vec::new()
    };
    // The organisation above, named and linked only where the viewer may read it.
    let above = match org.parent_id {
        Some(parent) => state
            .store
            .organisation(parent)
            .await
            .map_err(services::Error::from)?
            .filter(|o| p.allows(Permission::OrganisationsRead, o.into())),
        None => None,
    };
    let body = html! {
        dl.facts {
            dt { "Path" } dd { code { (org.path) } }
            dt { "Above" } dd {
                @match (&above, org.parent_id) {
                    (Some(parent), _) => a href=(href(parent.id)) { (parent.name) },
                    (None, Some(_)) => "an organisation outside your reach",
                    (None, None) => "– (the root)",
                }
            }
            dt { "Two-factor" } dd { @if org.require_2fa { "required of everyone at or below" } @else { "not required here" } }
            dt { "Tickets from faults" } dd {
                @if org.auto_tickets { "after " (org.auto_tickets_after_s) " s of a fault" } @else { "off" }
            }
            dt { "Chargers" } dd { a href={ "/chargers?organisation_id=" (id) } { "chargers at or below" } }
        }
        h2 { "Below it" }
        @if children.is_empty() { (empty("organisations below this one")) } @else {
            ul { @for c in &children { li { a href=(href(c.id)) { (c.name) } } } }
        }
        @if manages {
            h2 { "Settings" }
            (settings_form(viewer, &org, &parents, &own_subtree))
            h2 { "New organisation below it" }
            (create_form(viewer, &[], Some(id)))
            @if org.parent_id.is_some() {
                h2 { "Delete" }
                p.hint { "Only an empty organisation (no organisations, chargers, sites, users or tokens below it) can be deleted." }
                form.inline method="post" action={ (href(id)) "/delete" } {
                    (csrf_input(viewer))
                    button type="submit" { "Delete " (org.name) }
                }
            }
        }
        (webhooks_section(state, viewer, &org).await?)
        (alerts_section(state, viewer, &org).await?)
    };
    Ok(page(state, viewer, "/organisations", &org.name, body))
}

fn settings_form(
    viewer: &Viewer,
    org: &OrganisationOut,
    parents: &[(i32, String)],
    own_subtree: &std::collections::HashSet<i32>,
) -> Markup {
    html! {
        form.stacked method="post" action=(href(org.id)) {
            (csrf_input(viewer))
            label for="org-name" { "Name" }
            input #org-name name="name" required maxlength="200" value=(org.name);
            @if org.parent_id.is_some() {
                label for="org-parent" { "Below" }
                select #org-parent name="parent_id" {
                    @for (pid, name) in parents.iter().filter(|(pid, _)| !own_subtree.contains(pid)) {
                        option value=(pid) selected[org.parent_id == Some(*pid)] { (name) }
                    }
                }
            }
            label { input type="checkbox" name="require_2fa" value="on" checked[org.require_2fa]; " Require two-factor of every user at or below" }
            label { input type="checkbox" name="auto_tickets" value="on" checked[org.auto_tickets]; " Open a maintenance ticket when a fault lasts" }
            label for="org-after" { "Fault lasts at least (seconds)" }
            input #org-after name="auto_tickets_after_s" type="number" min="0" max="604800" value=(org.auto_tickets_after_s);
            button type="submit" { "Save" }
        }
    }
}

/// The settings form; a checkbox left unticked is not sent.
#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default, deserialize_with = "super::lenient")]
    parent_id: Option<i32>,
    #[serde(default, deserialize_with = "optional")]
    require_2fa: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    auto_tickets: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    auto_tickets_after_s: Option<String>,
}

/// `POST /organisations/{id}`: only what differs from the stored organisation is sent, so a
/// form saved unchanged asks nothing more of the gate than the organisation itself (lifting an
/// inherited two-factor requirement, say, is not asked for by accident).
pub async fn update(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<SettingsForm>) -> PageResult {
    let p = &s.viewer.principal;
    let f = s.form;
    let outcome = async {
        let org = organisations::get(&state, p, id).await?;
        let after = match f.auto_tickets_after_s.as_deref() {
            None => None,
            Some(v) => Some(
                v.parse::<u32>()
                    .map_err(|_| invalid("auto_tickets_after_s", "a number of seconds"))?,
            ),
        };
        let name = f.name.trim();
        let patch = OrganisationPatch {
            name: (name != org.name).then(|| name.to_owned()),
            parent_id: f.parent_id.filter(|pid| org.parent_id != Some(*pid)),
            require_2fa: Some(f.require_2fa.is_some()).filter(|on| *on != org.require_2fa),
            auto_tickets: Some(f.auto_tickets.is_some()).filter(|on| *on != org.auto_tickets),
            auto_tickets_after_s: after.filter(|s| i64::from(*s) != i64::from(org.auto_tickets_after_s)),
        };
        organisations::update(&state, p, id, patch)
            .await
            .map(|o| format!("{} saved", o.name))
    }
    .await;
    after_form(&state, outcome, &href(id))
}

/// `POST /organisations/{id}/delete`
pub async fn delete(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<Empty>) -> PageResult {
    let outcome = organisations::delete(&state, &s.viewer.principal, id).await;
    after_form_to(&state, outcome, &href(id), |()| {
        (format!("Organisation #{id} deleted"), "/organisations".into())
    })
}

/// The organisation's own webhooks, for those who manage them there.
async fn webhooks_section(state: &AppState, viewer: &Viewer, org: &OrganisationOut) -> Result<Markup, ConsoleError> {
    let p = &viewer.principal;
    if !p.allows(
        Permission::WebhooksManage,
        OrgRef {
            id: org.id,
            path: &org.path,
        },
    ) {
        return Ok(html! {});
    }
    let hooks: Vec<_> = webhooks::list(state, p, &ListQuery::largest(Some(org.id)))
        .await?
        .into_iter()
        .filter(|w| w.organisation_id == org.id)
        .collect();
    Ok(html! {
        h2 { "Webhooks" }
        p.hint { "Alerts about the chargers at or below this organisation, POSTed signed (X-Voltgate-Signature) to a URL of yours." }
        @if hooks.is_empty() { (empty("webhooks")) } @else {
            table {
                thead { tr { th { "URL" } th { "Events" } th { "Offline after" } th { "Since" } th { "" } } }
                tbody { @for w in &hooks {
                    tr {
                        td { a href={ "/webhooks/" (w.id) } { (w.url) } }
                        td { (event_names(&w.events)) }
                        td { (w.offline_after_s) " s" }
                        td { (when(Some(w.created_at))) }
                        td { (delete_button(viewer, &format!("/webhooks/{}/delete", w.id), &format!("the webhook to {}", w.url))) }
                    }
                } }
            }
        }
        form.stacked method="post" action={ (href(org.id)) "/webhooks" } {
            (csrf_input(viewer))
            label for="hook-url" { "URL" }
            input #hook-url name="url" type="url" required maxlength="2000" placeholder="https://";
            label for="hook-secret" { "Signing secret " small { "(16 to 200 characters; empty: one is made and shown once)" } }
            input #hook-secret name="secret" minlength="16" maxlength="200" autocomplete="off";
            (event_boxes("hook"))
            label for="hook-offline" { "Offline for at least (seconds)" }
            input #hook-offline name="offline_after_s" type="number" min="0" max="86400" value="300";
            button type="submit" { "Add webhook" }
        }
    })
}

/// The viewer's own e-mail alerts for this organisation's subtree.
async fn alerts_section(state: &AppState, viewer: &Viewer, org: &OrganisationOut) -> Result<Markup, ConsoleError> {
    let p = &viewer.principal;
    let mine: Vec<_> = webhooks::subscriptions(state, p)
        .await?
        .into_iter()
        .filter(|s| s.organisation_id == org.id)
        .collect();
    Ok(html! {
        h2 { "Your e-mail alerts" }
        @if mine.is_empty() { p { "You get no e-mail about this organisation." } } @else {
            table {
                thead { tr { th { "Events" } th { "Offline after" } th { "" } } }
                tbody { @for sub in &mine {
                    tr {
                        td { (event_names(&sub.events)) }
                        td { (sub.offline_after_s) " s" }
                        td {
                            form.inline method="post" action={ (href(org.id)) "/subscriptions/" (sub.id) "/delete" } {
                                (csrf_input(viewer))
                                button type="submit" { "Unsubscribe" }
                            }
                        }
                    }
                } }
            }
        }
        @if state.mailer.is_none() {
            p.hint { "This server sends no e-mail ([smtp] is not configured)." }
        } @else {
            form.stacked method="post" action={ (href(org.id)) "/subscriptions" } {
                (csrf_input(viewer))
                (event_boxes("sub"))
                label for="sub-offline" { "Offline for at least (seconds)" }
                input #sub-offline name="offline_after_s" type="number" min="0" max="86400" value="300";
                button type="submit" { "Subscribe" }
            }
        }
    })
}

/// Event kinds as a list people read.
pub(super) fn event_names(events: &[WebhookEvent]) -> String {
    events.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// A checkbox per event kind.
pub(super) fn event_boxes(prefix: &str) -> Markup {
    html! {
        fieldset {
            legend { "Events" }
            @for e in WebhookEvent::iter() {
                label for={ (prefix) "-" (e) } { input id={ (prefix) "-" (e) } type="checkbox" name="events" value=(e); " " (e) }
            }
        }
    }
}

/// The alert fields of a webhook or subscription form: `events` (repeated) and
/// `offline_after_s`.
pub(super) fn alert_fields(form: &[(String, String)]) -> Result<(Vec<WebhookEvent>, Option<u32>), services::Error> {
    let events = form
        .iter()
        .filter(|(k, _)| k == "events")
        .map(|(_, v)| {
            serde_json::from_value(serde_json::Value::String(v.clone()))
                .map_err(|_| invalid("events", format!("no event {v:?}")))
        })
        .collect::<Result<Vec<WebhookEvent>, _>>()?;
    let offline_after_s = match field(form, "offline_after_s") {
        None => None,
        Some(v) => Some(
            v.parse()
                .map_err(|_| invalid("offline_after_s", "a number of seconds"))?,
        ),
    };
    Ok((events, offline_after_s))
}

/// A field of a form read as pairs, `None` when absent or empty.
pub(super) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// `POST /organisations/{id}/webhooks`: the secret is shown on the page at once, never again
/// (and never in a cookie).
pub async fn create_webhook(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    s: Submitted<Vec<(String, String)>>,
) -> PageResult {
    let p = &s.viewer.principal;
    let outcome = async {
        let (events, offline_after_s) = alert_fields(&s.form)?;
        let input = NewWebhookIn {
            organisation_id: id,
            url: field(&s.form, "url").unwrap_or_default().to_owned(),
            secret: field(&s.form, "secret").map(str::to_owned),
            events,
            offline_after_s,
        };
        webhooks::create(&state, p, input).await
    }
    .await;
    match outcome {
        Ok(w) => {
            let mut viewer = s.viewer;
            viewer.flash = Some(Flash::ok(format!(
                "Webhook to {} added. Its signing secret, shown this once: {}",
                w.url,
                w.secret.unwrap_or_default()
            )));
            render(&state, &viewer, id).await
        }
        Err(e) => after_form(&state, Err::<String, _>(e), &href(id)),
    }
}

/// `POST /webhooks/{id}/delete`: back to its organisation's page.
pub async fn delete_webhook(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<Empty>) -> PageResult {
    let p = &s.viewer.principal;
    let w = webhooks::get(&state, p, id).await?;
    let outcome = webhooks::delete(&state, p, id)
        .await
        .map(|()| format!("Webhook to {} deleted", w.url));
    after_form(&state, outcome, &href(w.organisation_id))
}

/// `GET /webhooks/{id}`: a webhook and its deliveries, newest first.
pub async fn deliveries(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i32>,
    Query(paging): Query<Paging>,
) -> PageResult {
    let p = &viewer.principal;
    let w = webhooks::get(&state, p, id).await?;
    let q = ListQuery {
        organisation_id: None,
        ..paging.query()
    };
    let rows = webhooks::deliveries(&state, p, id, &q).await?;
    let path = format!("/webhooks/{id}");
    let body = html! {
        dl.facts {
            dt { "URL" } dd { (w.url) }
            dt { "Organisation" } dd { a href=(href(w.organisation_id)) { "#" (w.organisation_id) } }
            dt { "Events" } dd { (event_names(&w.events)) }
        }
        h2 { "Deliveries" }
        @if rows.is_empty() { (empty("deliveries yet")) } @else {
            table {
                thead { tr { th { "Event" } th { "Charger" } th { "State" } th { "Attempts" } th { "Last answer" } th { "Queued" } th { "Delivered" } } }
                tbody { @for d in &rows {
                    tr {
                        td { (d.event) }
                        td { @if let Some(c) = &d.charger_id { a href=(charger_href(c)) { (c) } } @else { "–" } }
                        td { (badge(delivery_state(d.state))) }
                        td { (d.attempts) }
                        td { (or_dash(d.last_status)) @if let Some(e) = &d.last_error { " " small { (e) } } }
                        td { (when(Some(d.created_at))) }
                        td { (when(d.delivered_at)) }
                    }
                } }
            }
            (paging.links(&path, rows.len()))
        }
    };
    Ok(page(
        &state,
        &viewer,
        "/organisations",
        &format!("Webhook to {}", w.url),
        body,
    ))
}

fn delivery_state(s: DeliveryState) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// `POST /organisations/{id}/subscriptions`: e-mail alerts for the viewer.
pub async fn subscribe(
    State(state): State<AppState>,
    Path(id): Path<i32>,
    s: Submitted<Vec<(String, String)>>,
) -> PageResult {
    let outcome = match alert_fields(&s.form) {
        Ok((events, offline_after_s)) => {
            let input = NewSubscriptionIn {
                organisation_id: id,
                events,
                offline_after_s,
            };
            webhooks::subscribe(&state, &s.viewer.principal, input)
                .await
                .map(|sub| format!("Subscribed: {} event kinds mailed to you.", sub.events.len()))
        }
        Err(e) => Err(e),
    };
    after_form(&state, outcome, &href(id))
}

/// `POST /organisations/{id}/subscriptions/{sub}/delete`
pub async fn unsubscribe(
    State(state): State<AppState>,
    Path((id, sub)): Path<(i32, i32)>,
    s: Submitted<Empty>,
) -> PageResult {
    let outcome = webhooks::unsubscribe(&state, &s.viewer.principal, sub)
        .await
        .map(|()| "Unsubscribed.".to_owned());
    after_form(&state, outcome, &href(id))
}
