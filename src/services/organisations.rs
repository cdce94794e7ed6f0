//! The organisation tree through the gate.

use std::collections::HashMap;

use entity::organisation;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{Audit, Error, ListQuery, Result, Target, gate, gate_seen, invalid, list_scope, named_organisation};
use crate::access::{Authorized, Permission, Principal, cap};
use crate::state::AppState;
use crate::store::{Move, OrganisationChanges, Page};
use crate::tally::Counts;

/// An organisation as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationOut {
    pub id: i32,
    pub name: String,
    pub parent_id: Option<i32>,
    /// Materialised path of ids from the root, e.g. `/1/4/9/`.
    pub path: String,
    /// Every user at or below this organisation must use two-factor authentication.
    pub require_2fa: bool,
    /// A fault open longer than `auto_tickets_after_s` on a charger at or below it opens a
    /// maintenance ticket, closed when the fault clears.
    pub auto_tickets: bool,
    pub auto_tickets_after_s: i32,
}

impl From<organisation::Model> for OrganisationOut {
    fn from(o: organisation::Model) -> Self {
        Self {
            id: o.id,
            name: o.name,
            parent_id: o.parent_id,
            path: o.path,
            require_2fa: o.require_2fa,
            auto_tickets: o.auto_tickets,
            auto_tickets_after_s: o.auto_tickets_after_s,
        }
    }
}

/// `POST /api/v1/organisations`
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: String,
    pub parent_id: i32,
}

/// `PATCH /api/v1/organisations/{id}`
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationPatch {
    #[schema(min_length = 1, max_length = 200, pattern = r"\S")]
    pub name: Option<String>,
    /// Move the organisation (and its subtree) below this one.
    pub parent_id: Option<i32>,
    /// Require two-factor authentication of every user whose home or membership is at or below
    /// this organisation (switching it off does not lift an ancestor's requirement).
    pub require_2fa: Option<bool>,
    /// Open a maintenance ticket when a charger's fault stays open `auto_tickets_after_s`.
    pub auto_tickets: Option<bool>,
    /// Default 900.
    #[schema(maximum = 604800)]
    pub auto_tickets_after_s: Option<u32>,
}

fn target(id: i32) -> Target {
    Target::new(format!("organisation:{id}")).org(id)
}

/// Organisations the caller may read.
pub async fn list(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<OrganisationOut>> {
    let scope = list_scope(state, p, Permission::OrganisationsRead, q, "organisation.list").await?;
    let rows = state.store.organisations_in(&scope, q.page()?).await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// An organisation with the chargers at or below it that the caller may read.
#[derive(Debug)]
pub struct TreeNode {
    pub org: OrganisationOut,
    pub chargers: u64,
    pub online: u64,
    pub faulted: u64,
}

/// Every organisation the caller may read, ordered by path (a parent before its children),
/// each with charger counts over its subtree within the caller's reach.
pub async fn tree(state: &AppState, p: &Principal) -> Result<Vec<TreeNode>> {
    let mut orgs = Vec::new();
    loop {
        let q = ListQuery {
            offset: Some(orgs.len() as u64),
            ..ListQuery::largest(None)
        };
        let page = list(state, p, &q).await?;
        let last = (page.len() as u64) < Page::MAX_LIMIT;
        orgs.extend(page);
        if last {
            break;
        }
    }
    orgs.sort_by(|a, b| a.path.cmp(&b.path));
    let mut nodes: Vec<TreeNode> = orgs
        .into_iter()
        .map(|org| TreeNode {
            org,
            chargers: 0,
            online: 0,
            faulted: 0,
        })
        .collect();
    let at: HashMap<i32, usize> = nodes.iter().enumerate().map(|(i, n)| (n.org.id, i)).collect();
    // Each node and its ancestors that the caller sees, found once per organisation rather
    // than once per charger.
    let counted_in: Vec<Vec<usize>> = nodes
        .iter()
        .map(|n| {
            n.org
                .path
                .split('/')
                .filter_map(|id| id.parse::<i32>().ok())
                .filter_map(|id| at.get(&id).copied())
                .collect()
        })
        .collect();
    for (org_id, counts) in charger_counts(state, p).await? {
        let Some(&home) = at.get(&org_id) else { continue };
        for &i in &counted_in[home] {
            let n = &mut nodes[i];
            n.chargers += counts.chargers;
            n.online += counts.online;
            n.faulted += counts.faulted;
        }
    }
    Ok(nodes)
}

/// The chargers the caller may read, counted per organisation: from the tally, or in the
/// database where it cannot answer (not built, home chargers only).
async fn charger_counts(state: &AppState, p: &Principal) -> Result<HashMap<i32, Counts>> {
    let Ok(scope) = p.scope(Permission::ChargersRead) else {
        return Ok(HashMap::new());
    };
    if let Some(each) = state.tally.per_organisation(&state.store, &scope).await? {
        return Ok(each);
    }
    let mut each: HashMap<i32, Counts> = HashMap::new();
    for (charger_id, org_id, faulted) in state.store.charger_places_in(&scope).await? {
        let counts = each.entry(org_id).or_default();
        counts.chargers += 1;
        counts.online += u64::from(state.fleet.is_online(&charger_id));
        counts.faulted += u64::from(faulted);
    }
    Ok(each)
}

/// One organisation.
pub async fn get(state: &AppState, p: &Principal, id: i32) -> Result<OrganisationOut> {
    let org = named_organisation(state, p, id, "organisation.read").await?;
    gate::<cap::OrganisationsRead>(state, p, &org, "organisation.read", target(id)).await?;
    Ok(org.into())
}

/// Creates an organisation below `parent_id`.
pub async fn create(state: &AppState, p: &Principal, input: NewOrganisation) -> Result<OrganisationOut> {
    let action = "organisation.create";
    if input.name.trim().is_empty() {
        return Err(invalid("name", "must not be empty"));
    }
    let parent = named_organisation(state, p, input.parent_id, action).await?;
    let auth = gate::<cap::OrganisationsCreate>(state, p, &parent, action, target(parent.id)).await?;
    let org = state.store.create_organisation(&auth, &input.name).await?;
    Audit::new(p, action, target(org.id))
        .request(json!(input))
        .ok(state)
        .await;
    Ok(org.into())
}

/// Renames, moves and/or sets `require_2fa`: every field is checked and gated before
/// anything is written, and then all are written in one transaction, so a refused field
/// leaves the others unchanged. Moving needs the permission on the current parent (whoever
/// manages the organisation) and on the new parent.
pub async fn update(state: &AppState, p: &Principal, id: i32, patch: OrganisationPatch) -> Result<OrganisationOut> {
    let action = "organisation.update";
    let org = named_organisation(state, p, id, action).await?;
    let auth = gate::<cap::OrganisationsCreate>(state, p, &org, action, target(id)).await?;
    if patch.name.as_ref().is_some_and(|n| n.trim().is_empty()) {
        return Err(invalid("name", "must not be empty"));
    }
    let moving = match patch.parent_id {
        Some(parent_id) => {
            let auth_now = gate_parent(state, p, &org, action).await?;
            let new_parent = named_organisation(state, p, parent_id, action).await?;
            let auth_new = gate::<cap::OrganisationsCreate>(state, p, &new_parent, action, target(parent_id)).await?;
            Some((auth_now, auth_new, new_parent))
        }
        None => None,
    };
    // Lifting the requirement is for whoever manages the organisation from above, so an
    // operator it binds cannot switch it off for itself (the root's own operators excepted).
    if patch.require_2fa == Some(false) && org.require_2fa && org.parent_id.is_some() {
        gate_parent(state, p, &org, action).await?;
    }
    if patch.auto_tickets_after_s.is_some_and(|s| s > 604_800) {
        return Err(invalid("auto_tickets_after_s", "at most 604800 (a week)"));
    }
    let auto_tickets = (patch.auto_tickets.is_some() || patch.auto_tickets_after_s.is_some()).then(|| {
        let after = patch
            .auto_tickets_after_s
            .map_or(org.auto_tickets_after_s, |s| s as i32);
        (patch.auto_tickets.unwrap_or(org.auto_tickets), after)
    });
    let changes = OrganisationChanges {
        name: patch.name.as_deref(),
        require_2fa: patch.require_2fa,
        auto_tickets,
        parent: moving.as_ref().map(|(now, new, parent)| Move {
            auth_parent_now: now,
            auth_parent: new,
            new_parent: parent,
        }),
    };
    let org = state.store.update_organisation(&auth, &org, changes).await?;
    Audit::new(p, action, target(id)).request(json!(patch)).ok(state).await;
    Ok(org.into())
}

/// Deletes an empty organisation; needs the permission on its parent.
pub async fn delete(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let action = "organisation.delete";
    let org = named_organisation(state, p, id, action).await?;
    // Existence inside the caller's view first, so an outsider gets 404 rather than 409.
    gate::<cap::OrganisationsCreate>(state, p, &org, action, target(id)).await?;
    let auth = gate_parent(state, p, &org, action).await?;
    state.store.delete_organisation(&auth, &org).await?;
    Audit::new(p, action, target(id)).ok(state).await;
    Ok(())
}

/// An organisation is managed from above: moving or deleting it needs the permission on its
/// parent, so nobody can move or delete the organisation their own membership is on. The
/// caller has already seen `org`, so a refusal here is 403, not 404.
async fn gate_parent(
    state: &AppState,
    p: &Principal,
    org: &organisation::Model,
    action: &str,
) -> Result<Authorized<cap::OrganisationsCreate>> {
    let parent = match org.parent_id {
        Some(pid) => state.store.organisation(pid).await?,
        None => None,
    };
    let Some(parent) = parent else {
        return Err(Error::Conflict(
            "the root organisation cannot be moved or deleted".into(),
        ));
    };
    gate_seen::<cap::OrganisationsCreate>(state, p, &parent, action, target(org.id)).await
}
