//! The gate as the services use it: load what the caller names, pass it through
//! [`Principal::authorize`], and audit every refusal. Here rather than in `access` because it
//! needs the store and the audit log, which sit above the gate's own types.

use entity::organisation;

use super::{Audit, Error, ListQuery, Result, Target};
use crate::access::{AccessError, Authorized, Capability, Permission, Principal, Scope};
use crate::state::AppState;

/// Audits a refusal and returns the error to answer with.
pub(crate) async fn refused(state: &AppState, p: &Principal, action: &str, target: Target, err: Error) -> Error {
    Audit::new(p, action, target)
        .detail(err.to_string())
        .denied(state)
        .await;
    err
}

/// The gate for `P` on `org`, with the refusal audited.
pub async fn gate<P: Capability>(
    state: &AppState,
    p: &Principal,
    org: &organisation::Model,
    action: &str,
    target: Target,
) -> Result<Authorized<P>> {
    match p.authorize::<P>(org.into()) {
        Ok(auth) => Ok(auth),
        Err(e) => Err(refused(state, p, action, target.org(org.id), e.into()).await),
    }
}

/// [`gate`] where the caller has already seen what it acts on (an organisation's parent, a
/// user's other memberships, the root of its own tree): any refusal is 403, never 404.
pub(crate) async fn gate_seen<P: Capability>(
    state: &AppState,
    p: &Principal,
    org: &organisation::Model,
    action: &str,
    target: Target,
) -> Result<Authorized<P>> {
    match p.authorize::<P>(org.into()) {
        Ok(auth) => Ok(auth),
        Err(_) => Err(refused(state, p, action, target, AccessError::Forbidden.into()).await),
    }
}

/// Loads an organisation the caller names; a missing one is refused like an invisible one.
pub(crate) async fn named_organisation(
    state: &AppState,
    p: &Principal,
    id: i32,
    action: &str,
) -> Result<organisation::Model> {
    match state.store.organisation(id).await? {
        Some(org) => Ok(org),
        None => Err(refused(
            state,
            p,
            action,
            Target::new(format!("organisation:{id}")),
            AccessError::NotFound.into(),
        )
        .await),
    }
}

/// A row that belongs to one organisation; audit rows name it `KIND:id`.
pub(crate) trait Owned {
    const KIND: &'static str;
    fn id(&self) -> i32;
    fn organisation_id(&self) -> i32;

    /// What audit rows about this row name.
    fn target(&self) -> Target {
        Target::new(format!("{}:{}", Self::KIND, self.id())).org(self.organisation_id())
    }
}

macro_rules! owned_rows {
    ($($model:ty => $kind:literal),* $(,)?) => {
        $(impl Owned for $model {
            const KIND: &'static str = $kind;
            fn id(&self) -> i32 {
                self.id
            }
            fn organisation_id(&self) -> i32 {
                self.organisation_id
            }
        })*
    };
}

owned_rows! {
    entity::driver::Model => "driver",
    entity::driver_group::Model => "group",
    entity::id_token::Model => "id_token",
    entity::tariff::Model => "tariff",
    entity::webhook::Model => "webhook",
}

/// [`owned_via`] for a row that knows its organisation: `found` was loaded by `id`.
pub(crate) async fn owned<P: Capability, T: Owned>(
    state: &AppState,
    p: &Principal,
    found: Option<T>,
    id: i32,
    action: &str,
) -> Result<(T, Authorized<P>)> {
    let resource = format!("{}:{id}", T::KIND);
    owned_via(state, p, found, T::organisation_id, action, resource).await
}

/// The gate for saving a `T`: on a change (`existing` is the id and what was loaded for it)
/// the row and the gate on its organisation; on a create, the gate on the organisation the
/// body names.
pub(crate) async fn saving<P: Capability, T: Owned>(
    state: &AppState,
    p: &Principal,
    existing: Option<(i32, Option<T>)>,
    organisation_id: Option<i32>,
    action: &str,
) -> Result<(Option<T>, Authorized<P>)> {
    match existing {
        Some((id, found)) => {
            let (row, auth) = owned::<P, T>(state, p, found, id, action).await?;
            Ok((Some(row), auth))
        }
        None => {
            let org_id = super::required(&organisation_id, "organisation_id")?;
            let org = named_organisation(state, p, org_id, action).await?;
            let target = Target::new(T::KIND).org(org.id);
            Ok((None, gate::<P>(state, p, &org, action, target).await?))
        }
    }
}

/// Deletes one `T` the caller may write (`KIND.delete` in the audit log).
pub(crate) async fn delete_owned<P: Capability, T: Owned>(
    state: &AppState,
    p: &Principal,
    found: Option<T>,
    id: i32,
    delete: impl AsyncFnOnce(&Authorized<P>, &T) -> crate::store::Result<()>,
) -> Result<()> {
    let action = format!("{}.delete", T::KIND);
    let (row, auth) = owned::<P, T>(state, p, found, id, &action).await?;
    delete(&auth, &row).await?;
    Audit::new(p, &action, row.target()).ok(state).await;
    Ok(())
}

/// One page of what the caller may read with `permission` (`{kind}.list` when refused).
pub(crate) async fn listed<T, O: From<T>>(
    state: &AppState,
    p: &Principal,
    permission: Permission,
    q: &ListQuery,
    action: &str,
    rows: impl AsyncFnOnce(Scope, crate::store::Page) -> crate::store::Result<Vec<T>>,
) -> Result<Vec<O>> {
    let scope = list_scope(state, p, permission, q, action).await?;
    Ok(rows(scope, q.page()?).await?.into_iter().map(O::from).collect())
}

/// Loads something an organisation owns and runs the gate on that organisation; a missing
/// one answers 404 like an invisible one.
pub(crate) async fn owned_via<P: Capability, T>(
    state: &AppState,
    p: &Principal,
    found: Option<T>,
    org_of: impl Fn(&T) -> i32,
    action: &str,
    resource: String,
) -> Result<(T, Authorized<P>)> {
    let Some(item) = found else {
        return Err(refused(state, p, action, Target::new(resource), AccessError::NotFound.into()).await);
    };
    let org = named_organisation(state, p, org_of(&item), action).await?;
    let auth = gate::<P>(state, p, &org, action, Target::new(resource).org(org.id)).await?;
    Ok((item, auth))
}

/// The scope of a list: where `permission` holds, narrowed by `?organisation_id=`.
pub(crate) async fn list_scope(
    state: &AppState,
    p: &Principal,
    permission: Permission,
    q: &ListQuery,
    action: &str,
) -> Result<Scope> {
    let result = match q.organisation_id {
        None => p.scope(permission),
        Some(id) => {
            let org = named_organisation(state, p, id, action).await?;
            p.scope_within(permission, (&org).into())
        }
    };
    match result {
        Ok(scope) => Ok(scope),
        Err(e) => {
            let target = Target {
                organisation_id: q.organisation_id,
                ..Target::new("list")
            };
            Err(refused(state, p, action, target, e.into()).await)
        }
    }
}
