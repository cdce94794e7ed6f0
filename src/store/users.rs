//! Users, memberships and API tokens.

use chrono::{DateTime, Utc};
use entity::{api_token, membership, organisation, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::scope::{Page, scope_condition};
use super::{Result, Store, conflict_on_unique};
use crate::access::{Authorized, Membership, Principal, Role, Scope, Window, cap};

/// Fields of a user an operator may change.
#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub email: Option<Option<String>>,
    pub password_hash: Option<String>,
    pub disabled: Option<bool>,
}

impl Store {
    /// A user by id.
    pub async fn user(&self, id: i32) -> Result<Option<user::Model>> {
        Ok(user::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// A user by user name.
    pub async fn user_by_name(&self, username: &str) -> Result<Option<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::Username.eq(username))
            .one(&self.db)
            .await?)
    }

    /// Whether any user exists (first start detection).
    pub async fn has_users(&self) -> Result<bool> {
        Ok(user::Entity::find().limit(1).one(&self.db).await?.is_some())
    }

    /// Creates a user whose home is the organisation `auth` was granted on.
    pub async fn create_user(
        &self,
        auth: &Authorized<cap::UsersManage>,
        username: &str,
        email: Option<String>,
        password_hash: Option<String>,
    ) -> Result<user::Model> {
        auth.ensure(auth.organisation_id())?;
        user::ActiveModel {
            username: Set(username.to_owned()),
            email: Set(email),
            password_hash: Set(password_hash),
            organisation_id: Set(auth.organisation_id()),
            disabled: Set(false),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&self.db)
        .await
        .map_err(|e| conflict_on_unique(e, "user name taken".into()))
    }

    /// Changes a user managed under `auth`; disabling or a new password revokes its tokens.
    pub async fn update_user(
        &self,
        auth: &Authorized<cap::UsersManage>,
        u: user::Model,
        changes: UserChanges,
    ) -> Result<user::Model> {
        auth.ensure(u.organisation_id)?;
        let password_changed = changes.password_hash.is_some();
        let revoke = changes.disabled == Some(true) || password_changed;
        let id = u.id;
        let mut active: user::ActiveModel = u.into();
        if let Some(email) = changes.email {
            active.email = Set(email);
        }
        if let Some(hash) = changes.password_hash {
            active.password_hash = Set(Some(hash));
        }
        if let Some(disabled) = changes.disabled {
            active.disabled = Set(disabled);
        }
        let txn = self.begin_write().await?;
        let updated = active.update(&txn).await?;
        if revoke {
            api_token::Entity::delete_many()
                .filter(api_token::Column::UserId.eq(id))
                .exec(&txn)
                .await?;
        }
        if password_changed {
            super::accounts::void_invitations(&txn, id).await?;
        }
        txn.commit().await?;
        Ok(updated)
    }

    /// Deletes a user (memberships, tokens and e-mail subscriptions go with it).
    pub async fn delete_user(&self, auth: &Authorized<cap::UsersManage>, u: &user::Model) -> Result<()> {
        auth.ensure(u.organisation_id)?;
        self.delete_sinks(entity::webhook::Column::SubscriberId.eq(u.id))
            .await?;
        user::Entity::delete_by_id(u.id).exec(&self.db).await?;
        Ok(())
    }

    /// Users whose home organisation is in the scope.
    pub async fn users_in(&self, scope: &Scope, page: Page) -> Result<Vec<user::Model>> {
        Ok(user::Entity::find()
            .filter(scope_condition(scope, user::Column::OrganisationId, None, None))
            .order_by_asc(user::Column::Id)
            .limit(page.limit)
            .offset(page.offset)
            .all(&self.db)
            .await?)
    }

    /// A user's memberships with their organisations' paths.
    pub async fn memberships(&self, user_id: i32) -> Result<Vec<Membership>> {
        let rows = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .find_also_related(organisation::Entity)
            .order_by_asc(membership::Column::Id)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(m, org)| {
                Some(Membership {
                    organisation_id: m.organisation_id,
                    path: org?.path,
                    role: m.role.parse::<Role>().ok()?,
                    window: Window {
                        from: m.valid_from,
                        until: m.valid_until,
                    },
                })
            })
            .collect())
    }

    /// Replaces the memberships of `user_id` on the organisations in `replace_within` (the
    /// granting operator's subtrees) with `new`; memberships elsewhere are kept. Each new
    /// membership needs a `UsersManage` proof for its organisation.
    pub async fn replace_memberships(
        &self,
        user_id: i32,
        replace_within: &[String],
        new: &[(Authorized<cap::UsersManage>, Role, Window)],
    ) -> Result<()> {
        for (auth, _, _) in new {
            auth.ensure(auth.organisation_id())?;
        }
        let txn = self.begin_write().await?;
        let current = membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .find_also_related(organisation::Entity)
            .all(&txn)
            .await?;
        let inside: Vec<i32> = current
            .iter()
            .filter(|(_, org)| {
                org.as_ref()
                    .is_some_and(|o| replace_within.iter().any(|p| o.path.starts_with(p.as_str())))
            })
            .map(|(m, _)| m.id)
            .collect();
        if !inside.is_empty() {
            membership::Entity::delete_many()
                .filter(membership::Column::Id.is_in(inside))
                .exec(&txn)
                .await?;
        }
        let mut seen = std::collections::HashSet::new();
        for (auth, role, window) in new {
            if !seen.insert((auth.organisation_id(), *role)) {
                continue;
            }
            new_membership(user_id, auth, *role, *window)
                .insert(&txn)
                .await
                .map_err(|e| conflict_on_unique(e, "membership already exists".into()))?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Gives `user_id` the role `role` on the organisation `auth` was granted on, in
    /// `window`; a membership already there takes the new window (a renewal). `false` if
    /// nothing changed.
    pub async fn add_membership(
        &self,
        user_id: i32,
        auth: &Authorized<cap::UsersManage>,
        role: Role,
        window: Window,
    ) -> Result<bool> {
        auth.ensure(auth.organisation_id())?;
        if let Some(found) = self.find_membership(user_id, auth.organisation_id(), role).await? {
            if (found.valid_from, found.valid_until) == (window.from, window.until) {
                return Ok(false);
            }
            membership::ActiveModel {
                id: Set(found.id),
                valid_from: Set(window.from),
                valid_until: Set(window.until),
                expiry_audited: Set(false),
                ..Default::default()
            }
            .update(&self.db)
            .await?;
            return Ok(true);
        }
        new_membership(user_id, auth, role, window)
            .insert(&self.db)
            .await
            .map_err(|e| conflict_on_unique(e, "membership already exists".into()))?;
        Ok(true)
    }

    /// Takes the role `role` on the organisation `auth` was granted on from `user_id`; `false`
    /// if it did not hold it.
    pub async fn remove_membership(
        &self,
        user_id: i32,
        auth: &Authorized<cap::UsersManage>,
        role: Role,
    ) -> Result<bool> {
        auth.ensure(auth.organisation_id())?;
        let deleted = membership::Entity::delete_many()
            .filter(membership::Column::UserId.eq(user_id))
            .filter(membership::Column::OrganisationId.eq(auth.organisation_id()))
            .filter(membership::Column::Role.eq(role.as_str()))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected > 0)
    }

    async fn find_membership(&self, user_id: i32, org_id: i32, role: Role) -> Result<Option<membership::Model>> {
        Ok(membership::Entity::find()
            .filter(membership::Column::UserId.eq(user_id))
            .filter(membership::Column::OrganisationId.eq(org_id))
            .filter(membership::Column::Role.eq(role.as_str()))
            .one(&self.db)
            .await?)
    }

    /// Gives the bootstrap admin its operator membership (first start only).
    pub async fn bootstrap_admin(&self, root: &organisation::Model, password_hash: String) -> Result<user::Model> {
        let txn = self.begin_write().await?;
        let admin = user::ActiveModel {
            username: Set("admin".into()),
            password_hash: Set(Some(password_hash)),
            organisation_id: Set(root.id),
            disabled: Set(false),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        membership::ActiveModel {
            user_id: Set(admin.id),
            organisation_id: Set(root.id),
            role: Set(Role::Operator.as_str().into()),
            created_at: Set(Utc::now()),
            valid_from: Set(None),
            valid_until: Set(None),
            expiry_audited: Set(false),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(admin)
    }

    /// Memberships in the scope whose window ends between now and `until`, with their users,
    /// soonest first (the dashboard's expiring-soon list).
    pub async fn memberships_ending(
        &self,
        scope: &Scope,
        until: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<(membership::Model, Option<user::Model>)>> {
        Ok(membership::Entity::find()
            .filter(scope_condition(scope, membership::Column::OrganisationId, None, None))
            .filter(membership::Column::ValidUntil.gt(Utc::now()))
            .filter(membership::Column::ValidUntil.lte(until))
            .find_also_related(user::Entity)
            .order_by_asc(membership::Column::ValidUntil)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Claims the memberships whose window has ended and whose end is not audited yet: each
    /// is returned once, across restarts and nodes (the flag is set by a conditional update).
    pub async fn claim_ended_memberships(&self, limit: u64) -> Result<Vec<membership::Model>> {
        let ended = membership::Entity::find()
            .filter(membership::Column::ValidUntil.lte(Utc::now()))
            .filter(membership::Column::ExpiryAudited.eq(false))
            .order_by_asc(membership::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?;
        let mut claimed = Vec::with_capacity(ended.len());
        for m in ended {
            let done = membership::Entity::update_many()
                .col_expr(membership::Column::ExpiryAudited, Expr::value(true))
                .filter(membership::Column::Id.eq(m.id))
                .filter(membership::Column::ExpiryAudited.eq(false))
                .exec(&self.db)
                .await?;
            if done.rows_affected == 1 {
                claimed.push(m);
            }
        }
        Ok(claimed)
    }

    /// Stores a new API token's hash with its scope and the client's address.
    pub async fn create_token(
        &self,
        user_id: i32,
        token_hash: String,
        expires_at: DateTime<Utc>,
        scope: &str,
        address: Option<String>,
    ) -> Result<()> {
        api_token::ActiveModel {
            user_id: Set(user_id),
            token_hash: Set(token_hash),
            created_at: Set(Utc::now()),
            expires_at: Set(expires_at),
            scope: Set(scope.to_owned()),
            address: Set(address),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        Ok(())
    }

    /// The principal a token stands for, with the token's scope: unexpired token of an
    /// enabled user.
    pub async fn principal_for_token(&self, token_hash: &str) -> Result<Option<(Principal, String)>> {
        let found = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash))
            .filter(api_token::Column::ExpiresAt.gt(Utc::now()))
            .one(&self.db)
            .await?;
        let Some(token) = found else { return Ok(None) };
        Ok(self.principal_of(token.user_id).await?.map(|(p, _)| (p, token.scope)))
    }

    /// An enabled user as the gate sees them now, with their row; `None` once the account is
    /// disabled or gone.
    pub async fn principal_of(&self, user_id: i32) -> Result<Option<(Principal, user::Model)>> {
        let Some(u) = self.user(user_id).await? else {
            return Ok(None);
        };
        if u.disabled {
            return Ok(None);
        }
        let memberships = self.memberships(u.id).await?;
        Ok(Some((Principal::new(u.id, u.username.clone(), memberships), u)))
    }

    /// Revokes one token.
    pub async fn revoke_token(&self, token_hash: &str) -> Result<()> {
        api_token::Entity::delete_many()
            .filter(api_token::Column::TokenHash.eq(token_hash))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// A membership row for the role on the organisation `auth` was granted on.
fn new_membership(
    user_id: i32,
    auth: &Authorized<cap::UsersManage>,
    role: Role,
    window: Window,
) -> membership::ActiveModel {
    membership::ActiveModel {
        user_id: Set(user_id),
        organisation_id: Set(auth.organisation_id()),
        role: Set(role.as_str().to_owned()),
        created_at: Set(Utc::now()),
        valid_from: Set(window.from),
        valid_until: Set(window.until),
        expiry_audited: Set(false),
        ..Default::default()
    }
}
