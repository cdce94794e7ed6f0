//! Users and memberships through the gate, with the no-escalation rules: only operators
//! manage users, only inside their operator subtree, never their own memberships.

use chrono::{DateTime, Utc};
use entity::user;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::invitations::{self, InvitationOut};
use super::{
    Audit, Error, ListQuery, Result, Target, gate, invalid, list_scope, named_organisation, passwords, refused,
};
use crate::access::{AccessError, Authorized, Membership, Permission, Principal, Role, Window, cap};
use crate::state::AppState;
use crate::store::{InvitationPurpose, UserChanges};

/// A membership as the API takes it: a role on an organisation's subtree, for a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipIn {
    pub organisation_id: i32,
    pub role: Role,
    /// RFC 3339; the role holds from this instant (default: at once).
    #[serde(default)]
    pub valid_from: Option<DateTime<Utc>>,
    /// RFC 3339; the role ends at this instant (default: until taken away). No longer than
    /// the granting operator's own membership there.
    #[serde(default)]
    pub valid_until: Option<DateTime<Utc>>,
}

impl MembershipIn {
    fn window(&self) -> Window {
        Window {
            from: self.valid_from,
            until: self.valid_until,
        }
    }
}

/// Where a membership stands against its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GrantState {
    /// The role holds now.
    Active,
    /// `valid_from` is still ahead: the role grants nothing yet.
    Scheduled,
    /// `valid_until` has passed: the role grants nothing any more.
    Ended,
}

/// A membership as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MembershipOut {
    pub organisation_id: i32,
    pub role: Role,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub state: GrantState,
}

impl From<&Membership> for MembershipOut {
    fn from(m: &Membership) -> Self {
        let now = Utc::now();
        let state = if m.window.contains(now) {
            GrantState::Active
        } else if m.window.from.is_some_and(|from| now < from) {
            GrantState::Scheduled
        } else {
            GrantState::Ended
        };
        Self {
            organisation_id: m.organisation_id,
            role: m.role,
            valid_from: m.window.from,
            valid_until: m.window.until,
            state,
        }
    }
}

/// A user as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserOut {
    pub id: i32,
    pub username: String,
    pub email: Option<String>,
    /// Home organisation: operators of its subtree manage this user.
    pub organisation_id: i32,
    pub disabled: bool,
    /// True once a password is set (an invited user has none yet and cannot log in).
    pub has_password: bool,
    /// Two-factor authentication is on.
    pub two_factor: bool,
    pub memberships: Vec<MembershipOut>,
    /// Only in the answer to a create without password: the invitation link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invitation: Option<InvitationOut>,
}

/// `POST /api/v1/users`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(min_length = 1, max_length = 64, pattern = r"^\s*\S{1,64}\s*$")]
    pub username: String,
    pub email: Option<String>,
    /// Without one the user is invited: it sets its password through a single-use link (sent
    /// by e-mail when SMTP is configured, and returned here either way).
    pub password: Option<String>,
    /// Home organisation (default: the caller's first operator organisation).
    pub organisation_id: Option<i32>,
    /// Roles to grant at once, with their windows (an invitation for "maintenance on Depot
    /// North until Friday"); the same rules as `PUT /users/{id}/memberships`.
    #[serde(default)]
    pub memberships: Vec<MembershipIn>,
}

/// `PATCH /api/v1/users/{id}`
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub password: Option<String>,
    pub disabled: Option<bool>,
    /// Required when changing one's own password or e-mail.
    pub current_password: Option<String>,
    /// A fresh one-time code, when changing one's own password or e-mail with two-factor on.
    pub otp: Option<String>,
}

fn target(u: &user::Model) -> Target {
    Target::new(format!("user:{}", u.id)).org(u.organisation_id)
}

async fn out(state: &AppState, u: user::Model) -> Result<UserOut> {
    let memberships = state.store.memberships(u.id).await?;
    Ok(UserOut {
        id: u.id,
        username: u.username,
        email: u.email,
        organisation_id: u.organisation_id,
        disabled: u.disabled,
        has_password: u.password_hash.is_some(),
        two_factor: u.totp_confirmed_at.is_some(),
        memberships: memberships.iter().map(MembershipOut::from).collect(),
        invitation: None,
    })
}

async fn hash_password(
    state: &AppState,
    password: Option<&str>,
    username: &str,
    email: Option<&str>,
) -> Result<Option<String>> {
    let Some(password) = password else { return Ok(None) };
    let mut hints = vec![username];
    hints.extend(email);
    passwords::hash_new(state, password, &hints).await.map(Some)
}

/// Loads a user the caller manages: 404 if it does not exist or lives outside the caller's
/// subtrees, 403 if the caller is not an operator there.
pub(crate) async fn managed(
    state: &AppState,
    p: &Principal,
    id: i32,
    action: &str,
) -> Result<(user::Model, Authorized<cap::UsersManage>)> {
    let Some(u) = state.store.user(id).await? else {
        return Err(refused(
            state,
            p,
            action,
            Target::new(format!("user:{id}")),
            AccessError::NotFound.into(),
        )
        .await);
    };
    let home = named_organisation(state, p, u.organisation_id, action).await?;
    let auth = gate::<cap::UsersManage>(state, p, &home, action, target(&u)).await?;
    Ok((u, auth))
}

/// Like [`managed`], for actions that could take the account over (password, disabling,
/// deleting, two-factor reset, sessions): the caller must also be operator over every
/// organisation the user holds a role on, or an operator below could seize an account that
/// ranks above it by setting its password (403 otherwise).
pub(crate) async fn managed_fully(
    state: &AppState,
    p: &Principal,
    id: i32,
    action: &str,
) -> Result<(user::Model, Authorized<cap::UsersManage>)> {
    let (u, auth) = managed(state, p, id, action).await?;
    for m in state.store.memberships(u.id).await? {
        let org = crate::access::OrgRef {
            id: m.organisation_id,
            path: &m.path,
        };
        if !p.allows(Permission::UsersManage, org) {
            return Err(refused(state, p, action, target(&u), AccessError::Forbidden.into()).await);
        }
    }
    Ok((u, auth))
}

/// Refuses an operator acting on its own account where that would escalate or lock out.
pub(crate) async fn not_self(state: &AppState, p: &Principal, u: &user::Model, action: &str) -> Result<()> {
    if p.user_id() == Some(u.id) {
        let err = Error::Access(AccessError::Forbidden);
        return Err(refused(state, p, action, target(u), err).await);
    }
    Ok(())
}

/// Users whose home organisation is in the caller's operator subtrees.
pub async fn list(state: &AppState, p: &Principal, q: &ListQuery) -> Result<Vec<UserOut>> {
    let scope = list_scope(state, p, Permission::UsersManage, q, "user.list").await?;
    let mut users = Vec::new();
    for u in state.store.users_in(&scope, q.page()?).await? {
        users.push(out(state, u).await?);
    }
    Ok(users)
}

/// One user.
pub async fn get(state: &AppState, p: &Principal, id: i32) -> Result<UserOut> {
    let (u, _) = managed(state, p, id, "user.read").await?;
    out(state, u).await
}

/// Creates a user (without memberships) in a home organisation.
pub async fn create(state: &AppState, p: &Principal, input: NewUser) -> Result<UserOut> {
    let action = "user.create";
    let username = input.username.trim();
    if username.is_empty() || username.len() > 64 || username.chars().any(char::is_whitespace) {
        return Err(invalid("username", "must be 1 to 64 characters without spaces"));
    }
    let home_id = match input.organisation_id {
        Some(id) => id,
        None => match p.memberships().find(|m| m.role == Role::Operator) {
            Some(m) => m.organisation_id,
            None => {
                let err = Error::Access(AccessError::Forbidden);
                return Err(refused(state, p, action, Target::new("user"), err).await);
            }
        },
    };
    let home = named_organisation(state, p, home_id, action).await?;
    let auth = gate::<cap::UsersManage>(state, p, &home, action, Target::new("user").org(home.id)).await?;
    if let Some(email) = &input.email
        && email.parse::<lettre::Address>().is_err()
    {
        return Err(invalid("email", "is not an e-mail address"));
    }
    // The grants are checked before the user exists, so a refused one leaves nothing behind.
    let grants = grants(state, p, &input.memberships, action, Target::new("user").org(home.id)).await?;
    let hash = hash_password(state, input.password.as_deref(), username, input.email.as_deref()).await?;
    // User names are unique across all trees: the answer to a clash is the same whether the
    // other user is visible to the caller or not, and says nothing about where it is.
    let u = match state
        .store
        .create_user(&auth, username, input.email.clone(), hash)
        .await
    {
        Err(crate::store::Error::Conflict(_)) => {
            return Err(Error::Conflict("this user name cannot be used; choose another".into()));
        }
        other => other?,
    };
    if !grants.is_empty() {
        state.store.replace_memberships(u.id, &[], &grants).await?;
    }
    let invitation = match input.password {
        Some(_) => None,
        None => Some(invitations::issue(state, p, &auth, &u, InvitationPurpose::Invite).await?),
    };
    let request = json!({"username": u.username, "email": input.email, "organisation_id": home_id,
        "memberships": input.memberships,
        "invited": invitation.is_some(), "emailed": invitation.as_ref().map(|i| i.emailed)});
    Audit::new(p, action, target(&u)).request(request).ok(state).await;
    let mut created = out(state, u).await?;
    created.invitation = invitation;
    Ok(created)
}

/// Changes e-mail, password or the disabled flag; disabling or a new password ends the
/// user's sessions at once.
pub async fn update(state: &AppState, p: &Principal, id: i32, patch: UserPatch) -> Result<UserOut> {
    let action = "user.update";
    let (u, auth) = managed_fully(state, p, id, action).await?;
    if patch.disabled == Some(true) {
        not_self(state, p, &u, action).await?;
    }
    if p.user_id() == Some(u.id) && (patch.password.is_some() || patch.email.is_some()) {
        let (current, otp) = (patch.current_password.as_deref(), patch.otp.as_deref());
        super::auth::confirm_identity(state, p, &u, action, target(&u), current, otp).await?;
    }
    if let Some(Some(email)) = &patch.email
        && email.parse::<lettre::Address>().is_err()
    {
        return Err(invalid("email", "is not an e-mail address"));
    }
    let changes = UserChanges {
        email: patch.email.clone(),
        password_hash: hash_password(state, patch.password.as_deref(), &u.username, u.email.as_deref()).await?,
        disabled: patch.disabled,
    };
    let u = state.store.update_user(&auth, u, changes).await?;
    let request =
        json!({"email": patch.email, "disabled": patch.disabled, "password_changed": patch.password.is_some()});
    Audit::new(p, action, target(&u)).request(request).ok(state).await;
    out(state, u).await
}

/// Deletes a user.
pub async fn delete(state: &AppState, p: &Principal, id: i32) -> Result<()> {
    let action = "user.delete";
    let (u, auth) = managed_fully(state, p, id, action).await?;
    not_self(state, p, &u, action).await?;
    state.store.delete_user(&auth, &u).await?;
    Audit::new(p, action, target(&u)).ok(state).await;
    Ok(())
}

/// Checks each wanted membership through the gate: its organisation visible (404), the
/// caller operator there (403), and its window sane and no longer than the caller's own
/// (422, 403).
async fn grants(
    state: &AppState,
    p: &Principal,
    wanted: &[MembershipIn],
    action: &str,
    target: Target,
) -> Result<Vec<(Authorized<cap::UsersManage>, Role, Window)>> {
    let now = Utc::now();
    let mut grants = Vec::with_capacity(wanted.len());
    for m in wanted {
        let window = m.window();
        if let (Some(from), Some(until)) = (window.from, window.until)
            && until <= from
        {
            return Err(invalid("valid_until", "must be after valid_from"));
        }
        if window.until.is_some_and(|until| until <= now) {
            return Err(invalid("valid_until", "is in the past"));
        }
        let org = named_organisation(state, p, m.organisation_id, action).await?;
        let auth = gate::<cap::UsersManage>(state, p, &org, action, target.clone().org(org.id)).await?;
        // A grant may not outlast the granter's own operator membership there.
        if !p.may_grant_for((&org).into(), &window) {
            let err = Error::Access(AccessError::Forbidden);
            return Err(refused(state, p, action, target.clone().org(org.id), err).await);
        }
        grants.push((auth, m.role, window));
    }
    Ok(grants)
}

/// Audits each membership whose window changed (a renewal or a shortening), beside the row
/// for the whole change.
async fn audit_windows(state: &AppState, p: &Principal, u: &user::Model, before: &[Membership], after: &[Membership]) {
    for new in after {
        let Some(old) = before
            .iter()
            .find(|m| m.organisation_id == new.organisation_id && m.role == new.role)
        else {
            continue;
        };
        if old.window != new.window {
            let request = json!({"organisation_id": new.organisation_id, "role": new.role,
                "valid_from": new.window.from, "valid_until": new.window.until,
                "before": {"valid_from": old.window.from, "valid_until": old.window.until}});
            Audit::new(p, "user.membership.window", target(u).org(new.organisation_id))
                .request(request)
                .ok(state)
                .await;
        }
    }
}

/// Replaces the user's memberships inside the caller's operator subtrees; memberships
/// elsewhere are kept. Every organisation named must be inside those subtrees (404 otherwise,
/// like anything the caller cannot see), and nobody edits their own memberships.
pub async fn set_memberships(state: &AppState, p: &Principal, id: i32, wanted: Vec<MembershipIn>) -> Result<UserOut> {
    let action = "user.memberships";
    let (u, _) = managed(state, p, id, action).await?;
    not_self(state, p, &u, action).await?;
    let grants = grants(state, p, &wanted, action, target(&u)).await?;
    let before = state.store.memberships(u.id).await?;
    let within: Vec<String> = p.operator_paths().map(str::to_owned).collect();
    state.store.replace_memberships(u.id, &within, &grants).await?;
    let after = state.store.memberships(u.id).await?;
    Audit::new(p, action, target(&u)).request(json!(wanted)).ok(state).await;
    audit_windows(state, p, &u, &before, &after).await;
    out(state, u).await
}

/// Gives (`add`) or takes away one membership, touching no other: the organisation must be
/// inside the caller's operator subtrees (404 outside, 403 without users: manage there), and
/// nobody changes their own. Taking away a role the user does not hold answers 404.
pub async fn change_membership(
    state: &AppState,
    p: &Principal,
    id: i32,
    m: MembershipIn,
    add: bool,
) -> Result<UserOut> {
    let action = if add {
        "user.membership.add"
    } else {
        "user.membership.remove"
    };
    let (u, _) = managed(state, p, id, action).await?;
    not_self(state, p, &u, action).await?;
    let changed = if add {
        let before = state.store.memberships(u.id).await?;
        let (auth, role, window) = grants(state, p, std::slice::from_ref(&m), action, target(&u))
            .await?
            .remove(0);
        let changed = state.store.add_membership(u.id, &auth, role, window).await?;
        audit_windows(state, p, &u, &before, &state.store.memberships(u.id).await?).await;
        changed
    } else {
        let org = named_organisation(state, p, m.organisation_id, action).await?;
        let auth = gate::<cap::UsersManage>(state, p, &org, action, target(&u).org(org.id)).await?;
        state.store.remove_membership(u.id, &auth, m.role).await?
    };
    if !add && !changed {
        return Err(Error::NotFound("membership".into()));
    }
    Audit::new(p, action, target(&u).org(m.organisation_id))
        .request(json!(m))
        .ok(state)
        .await;
    out(state, u).await
}
