//! Drivers and driver groups: lists with inline editing for the roles that write them
//! (operators, fleet managers), read-only for the others, and forms to add one. Access rules
//! admit a group at a site (the site's page); a token joins a driver and a group on its page.

use axum::extract::{Query, State};
use maud::html;
use serde::Deserialize;

use super::{Empty, Paging, after_form, optional};
use crate::access::Permission;
use crate::console::layout::{csrf_input, delete_button, empty, org_label, org_select, page};
use crate::console::session::{Submitted, Viewer};
use crate::console::{PageResult, org_choices};
use crate::http::extract::Path;
use crate::services::drivers::{self, DriverIn};
use crate::services::groups::{self, GroupIn};
use crate::state::AppState;

/// `GET /drivers`
pub async fn list(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    let p = &viewer.principal;
    let rows = drivers::list_drivers(&state, p, &paging.query()).await?;
    let readable = org_choices(&state, p, Permission::DriversRead).await?;
    let writable = org_choices(&state, p, Permission::DriversWrite).await?;
    let writes = |org: i32| writable.iter().any(|(o, _)| *o == org);
    let body = html! {
        (paging.filter("/drivers", &readable))
        @if rows.is_empty() { (empty("drivers")) } @else {
            table {
                thead { tr { th { "Name and e-mail" } th { "Organisation" } th { "" } } }
                tbody { @for d in &rows {
                    tr {
                        td {
                            @if writes(d.organisation_id) {
                                form.row method="post" action={ "/drivers/" (d.id) } {
                                    (csrf_input(&viewer))
                                    input name="name" required maxlength="200" value=(d.name) aria-label={ "Name of driver " (d.id) };
                                    input name="email" type="email" maxlength="200" value=[d.email.as_deref()] aria-label={ "E-mail of " (d.name) };
                                    button type="submit" { "Save" }
                                }
                            } @else {
                                (d.name) @if let Some(e) = &d.email { " · " (e) }
                            }
                        }
                        td { (org_label(&readable, d.organisation_id)) }
                        td { @if writes(d.organisation_id) { (delete_button(&viewer, &format!("/drivers/{}/delete", d.id), &d.name)) } }
                    }
                } }
            }
            (paging.links("/drivers", rows.len()))
        }
        @if !writable.is_empty() {
            h2 { "Add a driver" }
            form.stacked method="post" action="/drivers" {
                (csrf_input(&viewer))
                (org_select("driver-org", &writable))
                label for="driver-name" { "Name" }
                input #driver-name name="name" required maxlength="200";
                label for="driver-email" { "E-mail " small { "(optional)" } }
                input #driver-email name="email" type="email" maxlength="200";
                button type="submit" { "Add driver" }
            }
        }
    };
    Ok(page(&state, &viewer, "/drivers", "Drivers", body))
}

/// The add and edit forms of drivers and groups (groups have no e-mail).
#[derive(Debug, Deserialize)]
pub struct NamedForm {
    #[serde(default, deserialize_with = "super::lenient")]
    organisation_id: Option<i32>,
    #[serde(default)]
    name: String,
    #[serde(default, deserialize_with = "optional")]
    email: Option<String>,
}

/// `POST /drivers`
pub async fn create(State(state): State<AppState>, s: Submitted<NamedForm>) -> PageResult {
    let input = DriverIn {
        organisation_id: s.form.organisation_id,
        name: Some(s.form.name),
        email: Some(s.form.email),
    };
    let outcome = drivers::save_driver(&state, &s.viewer.principal, None, input)
        .await
        .map(|d| format!("Driver {} added", d.name));
    after_form(&state, outcome, "/drivers")
}

/// `POST /drivers/{id}`: name and e-mail (an empty e-mail removes it).
pub async fn update(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<NamedForm>) -> PageResult {
    let input = DriverIn {
        organisation_id: None,
        name: Some(s.form.name),
        email: Some(s.form.email),
    };
    let outcome = drivers::save_driver(&state, &s.viewer.principal, Some(id), input)
        .await
        .map(|d| format!("Driver {} saved", d.name));
    after_form(&state, outcome, "/drivers")
}

/// `POST /drivers/{id}/delete`: its tokens stay, without a driver.
pub async fn delete(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<Empty>) -> PageResult {
    let outcome = drivers::delete_driver(&state, &s.viewer.principal, id)
        .await
        .map(|()| "Driver deleted; their tokens stay, without a driver".to_owned());
    after_form(&state, outcome, "/drivers")
}

/// `GET /groups`
pub async fn groups(State(state): State<AppState>, viewer: Viewer, Query(paging): Query<Paging>) -> PageResult {
    let p = &viewer.principal;
    let rows = groups::list_groups(&state, p, &paging.query()).await?;
    let readable = org_choices(&state, p, Permission::DriversRead).await?;
    let writable = org_choices(&state, p, Permission::DriversWrite).await?;
    let writes = |org: i32| writable.iter().any(|(o, _)| *o == org);
    let body = html! {
        p.hint { "A group's tokens charge at the private sites whose access rules admit it (a site's page)." }
        (paging.filter("/groups", &readable))
        @if rows.is_empty() { (empty("driver groups")) } @else {
            table {
                thead { tr { th { "Name" } th { "Organisation" } th { "" } } }
                tbody { @for g in &rows {
                    tr {
                        td {
                            @if writes(g.organisation_id) {
                                form.row method="post" action={ "/groups/" (g.id) } {
                                    (csrf_input(&viewer))
                                    input name="name" required maxlength="200" value=(g.name) aria-label={ "Name of group " (g.id) };
                                    button type="submit" { "Rename" }
                                }
                            } @else { (g.name) }
                        }
                        td { (org_label(&readable, g.organisation_id)) }
                        td { @if writes(g.organisation_id) { (delete_button(&viewer, &format!("/groups/{}/delete", g.id), &g.name)) } }
                    }
                } }
            }
            (paging.links("/groups", rows.len()))
        }
        @if !writable.is_empty() {
            h2 { "New group" }
            form.stacked method="post" action="/groups" {
                (csrf_input(&viewer))
                (org_select("group-org", &writable))
                label for="group-name" { "Name" }
                input #group-name name="name" required maxlength="200";
                button type="submit" { "Create group" }
            }
        }
    };
    Ok(page(&state, &viewer, "/groups", "Driver groups", body))
}

/// `POST /groups` and `POST /groups/{id}` (rename).
async fn save_group(state: &AppState, s: Submitted<NamedForm>, id: Option<i32>) -> PageResult {
    let input = GroupIn {
        organisation_id: s.form.organisation_id,
        name: s.form.name,
    };
    let outcome = groups::save_group(state, &s.viewer.principal, id, input)
        .await
        .map(|g| format!("Group {} saved", g.name));
    after_form(state, outcome, "/groups")
}

/// `POST /groups`
pub async fn create_group(State(state): State<AppState>, s: Submitted<NamedForm>) -> PageResult {
    save_group(&state, s, None).await
}

/// `POST /groups/{id}`
pub async fn rename_group(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<NamedForm>) -> PageResult {
    save_group(&state, s, Some(id)).await
}

/// `POST /groups/{id}/delete`: its tokens stay, ungrouped; its access rules go.
pub async fn delete_group(State(state): State<AppState>, Path(id): Path<i32>, s: Submitted<Empty>) -> PageResult {
    let outcome = groups::delete_group(&state, &s.viewer.principal, id)
        .await
        .map(|()| "Group deleted; its tokens stay, ungrouped, and its access rules are gone".to_owned());
    after_form(&state, outcome, "/groups")
}
