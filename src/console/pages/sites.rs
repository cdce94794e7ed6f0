//! Sites: the list with a form to create one, and a site's page: its settings (name, kind,
//! address, local list), its chargers and its access rules (which driver groups may charge
//! there). Support sees rules in the reduced view and no buttons; the services decide.

use axum::extract::{Query, State};
use entity::values::SiteKind;
use maud::{Markup, html};
use sea_orm::Iterable;
use serde::Deserialize;

use super::{Empty, Paging, after_form, after_form_to, optional};
use crate::access::Permission;
use crate::console::layout::{badge, charger_href, csrf_input, empty, holds, or_dash, org_label, page, when};
use crate::console::session::{Submitted, Viewer};
use crate::console::{ConsoleError, PageResult, org_choices};
use crate::http::extract::Path;
use crate::services::access_rules::{self, RuleIn};
use crate::services::sites::{self, NewSite, SiteOut, SitePatch};
use crate::services::{self, ListQuery, chargers, groups};
use crate::state::AppState;

/// The console path of a site's page.
pub fn href(id: i32) -> String {
    format!("/sites/{id}")
}

/// `GET /sites`
pub async fn list(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    let p = &viewer.principal;
    let rows = sites::list(&state, p, &paging.query()).await?;
    let readable = org_choices(&state, p, Permission::ChargersRead).await?;
    let writable = org_choices(&state, p, Permission::ChargersWrite).await?;
    let body = html! {
        (paging.filter("/sites", &readable))
        @if rows.is_empty() { (empty("sites")) } @else {
            table {
                thead { tr { th { "Site" } th { "Kind" } th { "Organisation" } th { "Address" } th { "Local list" } } }
                tbody { @for s in &rows {
                    tr {
                        td { a href=(href(s.id)) { (s.name) } }
                        td { (s.kind) }
                        td { (org_label(&readable, s.organisation_id)) }
                        td { (or_dash(s.address.as_deref())) }
                        td { @if s.local_list { "on" } @else { "off" } }
                    }
                } }
            }
            (paging.links("/sites", rows.len()))
        }
        @if !writable.is_empty() {
            h2 { "New site" }
            form.stacked method="post" action="/sites" {
                (csrf_input(&viewer))
                label for="site-org" { "Organisation" }
                select #site-org name="organisation_id" required {
                    @for (id, name) in &writable { option value=(id) { (name) } }
                }
                (site_fields(None))
                button type="submit" { "Create site" }
            }
        }
    };
    Ok(page(&state, &viewer, "/sites", "Sites", body))
}

/// Name, kind, address and local list, filled with `site`'s values when given.
fn site_fields(site: Option<&SiteOut>) -> Markup {
    let kind = site.map_or(SiteKind::Private, |s| s.kind);
    html! {
        label for="site-name" { "Name" }
        input #site-name name="name" required maxlength="200" value=[site.map(|s| s.name.as_str())];
        label for="site-kind" { "Kind " small { "(home: a fleet manager's drivers charge at home)" } }
        select #site-kind name="kind" {
            @for k in SiteKind::iter() { option value=(k) selected[k == kind] { (k) } }
        }
        label for="site-address" { "Address " small { "(optional)" } }
        input #site-address name="address" maxlength="500" value=[site.and_then(|s| s.address.as_deref())];
        label for="site-local-list" {
            input #site-local-list type="checkbox" name="local_list" value="on" checked[site.is_some_and(|s| s.local_list)];
            " Chargers here keep a local authorisation list"
        }
    }
}

/// The create and settings forms; a checkbox left unticked is not sent.
#[derive(Debug, Deserialize)]
pub struct SiteForm {
    #[serde(default, deserialize_with = "super::lenient")]
    organisation_id: Option<i32>,
    #[serde(default)]
    name: String,
    kind: SiteKind,
    #[serde(default, deserialize_with = "optional")]
    address: Option<String>,
    #[serde(default, deserialize_with = "optional")]
    local_list: Option<String>,
}

/// `POST /sites`
pub async fn create(State(state): State<AppState>, s: Submitted<SiteForm>) -> PageResult {
    let f = s.form;
    let Some(organisation_id) = f.organisation_id else {
        return Err(ConsoleError::BadForm("choose an organisation".into()));
    };
    let input = NewSite {
        organisation_id,
        name: f.name,
        address: f.address,
        kind: Some(f.kind),
        local_list: Some(f.local_list.is_some()),
    };
    let outcome = sites::create(&state, &s.viewer.principal, input).await;
    after_form_to(&state, outcome, "/sites", |site| {
        (format!("{} created", site.name), href(site.id))
    })
}

/// `GET /sites/{id}`
pub async fn show(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i32>) -> PageResult {
    let p = &viewer.principal;
    let site = sites::get(&state, p, id).await?;
    // Whoever sees the site may see its organisation's name; only the buttons need the gate.
    let org = state
        .store
        .organisation(site.organisation_id)
        .await
        .map_err(services::Error::from)?;
    let allows = |permission| org.as_ref().is_some_and(|o| p.allows(permission, o.into()));
    let (writes, reads_rules, writes_rules) = (
        allows(Permission::ChargersWrite),
        allows(Permission::AccessRulesRead),
        allows(Permission::AccessRulesWrite),
    );
    // Chargers may sit at a site of an organisation above theirs: all of its subtree's.
    let chargers: Vec<_> = chargers::list(&state, p, &ListQuery::largest(Some(site.organisation_id)).into())
        .await?
        .into_iter()
        .filter(|c| c.site_id == Some(id))
        .collect();
    let body = html! {
        dl.facts {
            dt { "Kind" } dd { (site.kind) }
            dt { "Organisation" } dd {
                @match &org { Some(o) => a href=(super::organisations::href(o.id)) { (o.name) }, None => { "#" (site.organisation_id) } }
            }
            dt { "Address" } dd { (or_dash(site.address.as_deref())) }
            dt { "Local list" } dd { @if site.local_list { "on" } @else { "off" } }
        }
        h2 { "Chargers" }
        @if chargers.is_empty() { (empty("chargers at this site")) } @else {
            table {
                thead { tr { th { "Charger" } th { "State" } th { "Last seen" } } }
                tbody { @for c in &chargers {
                    tr {
                        td { a href=(charger_href(&c.id)) { (c.id) } }
                        td { (badge(if c.online { "online" } else { "offline" })) }
                        td { (when(c.last_seen_at)) }
                    }
                } }
            }
        }
        @if reads_rules { (rules_section(&state, &viewer, &site, writes_rules).await?) }
        @if writes {
            h2 { "Settings" }
            form.stacked method="post" action=(href(id)) {
                (csrf_input(&viewer))
                (site_fields(Some(&site)))
                button type="submit" { "Save" }
            }
            h2 { "Delete" }
            p.hint { "Only a site without chargers can be deleted." }
            form.inline method="post" action={ (href(id)) "/delete" } {
                (csrf_input(&viewer))
                button type="submit" { "Delete " (site.name) }
            }
        }
    };
    Ok(page(&state, &viewer, "/sites", &site.name, body))
}

/// The driver groups admitted at the site, with add and remove for those who write rules.
async fn rules_section(
    state: &AppState,
    viewer: &Viewer,
    site: &SiteOut,
    writes: bool,
) -> Result<Markup, ConsoleError> {
    let p = &viewer.principal;
    let rules: Vec<_> = access_rules::list_rules(state, p, &ListQuery::largest(Some(site.organisation_id)))
        .await?
        .into_iter()
        .filter(|r| r.site_id == site.id)
        .collect();
    // Groups the caller may read; a facility manager (no driver access) names one by its id.
    let groups = if writes && holds(p, Permission::DriversRead) {
        groups::list_groups(state, p, &ListQuery::largest(None)).await?
    } else {
        Vec::new()
    };
    Ok(html! {
        h2 { "Who may charge here" }
        p.hint { "Access rules: the driver groups whose tokens are accepted at this site (private sites; public sites accept every valid token)." }
        @if rules.is_empty() { (empty("access rules")) } @else {
            table #access-rules {
                thead { tr { th { "Driver group" } @if writes { th { "" } } } }
                tbody { @for r in &rules {
                    tr {
                        td { @match &r.group_name { Some(name) => { (name) }, None => span.hint { "a group outside your organisations" } } }
                        @if writes {
                            td {
                                form.inline method="post" action={ "/access-rules/" (r.id) "/delete" } {
                                    (csrf_input(viewer))
                                    input type="hidden" name="site_id" value=(site.id);
                                    button type="submit" aria-label={ "Remove the rule for " (r.group_name.as_deref().unwrap_or("this group")) } { "Remove" }
                                }
                            }
                        }
                    }
                } }
            }
        }
        @if writes {
            form.stacked method="post" action="/access-rules" {
                (csrf_input(viewer))
                input type="hidden" name="site_id" value=(site.id);
                @if groups.is_empty() {
                    label for="rule-group" { "Driver group id" }
                    input #rule-group name="group_id" type="number" min="1" required;
                } @else {
                    label for="rule-group" { "Driver group" }
                    select #rule-group name="group_id" required {
                        @for g in &groups { option value=(g.id) { (g.name) } }
                    }
                }
                button type="submit" { "Admit the group" }
            }
        }
    })
}

/// `POST /sites/{id}`: the settings form.
pub async fn update(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<SiteForm>) -> PageResult {
    let f = s.form;
    let patch = SitePatch {
        name: Some(f.name),
        address: Some(f.address),
        kind: Some(f.kind),
        local_list: Some(f.local_list.is_some()),
    };
    let outcome = sites::update(&state, &s.viewer.principal, id, patch)
        .await
        .map(|site| format!("{} saved", site.name));
    after_form(&state, outcome, &href(id))
}

/// `POST /sites/{id}/delete`
pub async fn delete(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<Empty>) -> PageResult {
    let outcome = sites::delete(&state, &s.viewer.principal, id).await;
    after_form_to(&state, outcome, &href(id), |()| {
        (format!("Site #{id} deleted"), "/sites".into())
    })
}

/// The add-a-rule form.
#[derive(Debug, Deserialize)]
pub struct RuleForm {
    site_id: i32,
    #[serde(default, deserialize_with = "super::lenient")]
    group_id: Option<i32>,
}

/// `POST /access-rules`
pub async fn create_rule(State(state): State<AppState>, s: Submitted<RuleForm>) -> PageResult {
    let f = s.form;
    let outcome = match f.group_id {
        Some(group_id) => access_rules::create_rule(
            &state,
            &s.viewer.principal,
            RuleIn {
                site_id: f.site_id,
                group_id,
            },
        )
        .await
        .map(|r| {
            format!(
                "{} may charge here",
                r.group_name.unwrap_or_else(|| format!("group #{group_id}"))
            )
        }),
        None => Err(services::invalid("group_id", "choose a driver group")),
    };
    after_form(&state, outcome, &href(f.site_id))
}

/// Where a removal returns to.
#[derive(Debug, Deserialize)]
pub struct RuleRemoval {
    site_id: i32,
}

/// `POST /access-rules/{id}/delete`
pub async fn delete_rule(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<RuleRemoval>) -> PageResult {
    let outcome = access_rules::delete_rule(&state, &s.viewer.principal, id)
        .await
        .map(|()| "Access rule removed".to_owned());
    after_form(&state, outcome, &href(s.form.site_id))
}
