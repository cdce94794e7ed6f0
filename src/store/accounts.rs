//! What accounts need beyond users and memberships: invitations, TOTP state, recovery codes,
//! sessions (API tokens) and the `require_2fa` policy of the tree.

use chrono::{DateTime, Utc};
use entity::{api_token, invitation, organisation, recovery_code, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder};

use super::{Result, Store};
use crate::access::{Authorized, cap};

/// What an invitation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationPurpose {
    /// A new user's first password.
    Invite,
    /// A forgotten password.
    Reset,
}

impl InvitationPurpose {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Reset => "reset",
        }
    }
}

/// Why an invitation cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    Usable,
    Used,
    Expired,
}

/// A session's scope: what its token may reach.
pub const SCOPE_FULL: &str = "full";
/// Only two-factor enrolment (the user's organisation requires 2FA and it has none yet).
pub const SCOPE_ENROL_2FA: &str = "enrol_2fa";

impl Store {
    /// Stores an invitation for `user_id` (its token's hash) and voids the user's earlier
    /// unused ones: only the newest link works.
    pub async fn create_invitation(
        &self,
        auth: &Authorized<cap::UsersManage>,
        u: &user::Model,
        purpose: InvitationPurpose,
        token_hash: String,
        created_by: Option<i32>,
        expires_at: DateTime<Utc>,
    ) -> Result<invitation::Model> {
        auth.ensure(u.organisation_id)?;
        let now = Utc::now();
        let txn = self.begin_write().await?;
        void_invitations(&txn, u.id).await?;
        let created = invitation::ActiveModel {
            user_id: Set(u.id),
            token_hash: Set(token_hash),
            purpose: Set(purpose.as_str().into()),
            created_by: Set(created_by),
            created_at: Set(now),
            expires_at: Set(expires_at),
            used_at: Set(None),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(created)
    }

    /// An invitation by its token's hash, with whether it can still be used.
    pub async fn invitation(&self, token_hash: &str) -> Result<Option<(invitation::Model, InvitationState)>> {
        let found = invitation::Entity::find()
            .filter(invitation::Column::TokenHash.eq(token_hash))
            .one(&self.db)
            .await?;
        Ok(found.map(|i| {
            let state = if i.used_at.is_some() {
                InvitationState::Used
            } else if i.expires_at <= Utc::now() {
                InvitationState::Expired
            } else {
                InvitationState::Usable
            };
            (i, state)
        }))
    }

    /// Uses an invitation: sets the password and ends every session of the user, in one
    /// transaction. `None` when the invitation was used (or expired) meanwhile.
    pub async fn accept_invitation(&self, token_hash: &str, password_hash: String) -> Result<Option<user::Model>> {
        let now = Utc::now();
        let txn = self.begin_write().await?;
        let Some(inv) = invitation::Entity::find()
            .filter(invitation::Column::TokenHash.eq(token_hash))
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        // The conditional update is the claim: two concurrent uses cannot both win.
        let claimed = invitation::Entity::update_many()
            .col_expr(invitation::Column::UsedAt, Expr::value(now))
            .filter(invitation::Column::Id.eq(inv.id))
            .filter(invitation::Column::UsedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now))
            .exec(&txn)
            .await?;
        if claimed.rows_affected != 1 {
            return Ok(None);
        }
        let Some(u) = user::Entity::find_by_id(inv.user_id).one(&txn).await? else {
            return Ok(None);
        };
        let mut active: user::ActiveModel = u.into();
        active.password_hash = Set(Some(password_hash));
        let u = active.update(&txn).await?;
        api_token::Entity::delete_many()
            .filter(api_token::Column::UserId.eq(u.id))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(Some(u))
    }

    /// Sets a user's own new password and ends its other sessions (`keep` is the caller's).
    pub async fn change_own_password(&self, user_id: i32, password_hash: String, keep: &str) -> Result<()> {
        let txn = self.begin_write().await?;
        user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
            .filter(user::Column::Id.eq(user_id))
            .exec(&txn)
            .await?;
        api_token::Entity::delete_many()
            .filter(api_token::Column::UserId.eq(user_id))
            .filter(api_token::Column::TokenHash.ne(keep))
            .exec(&txn)
            .await?;
        void_invitations(&txn, user_id).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Starts (or restarts) two-factor enrolment with a new, unconfirmed secret.
    pub async fn begin_totp(&self, user_id: i32, secret: &str) -> Result<()> {
        user::Entity::update_many()
            .col_expr(user::Column::TotpSecret, Expr::value(secret))
            .col_expr(
                user::Column::TotpConfirmedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
            .filter(user::Column::Id.eq(user_id))
            .filter(user::Column::TotpConfirmedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Records that the TOTP code of time step `step` was used; `false` if that step (or a
    /// later one) was already used, which is how a replayed code is refused.
    pub async fn claim_totp_step(&self, user_id: i32, step: i64) -> Result<bool> {
        let claimed = user::Entity::update_many()
            .col_expr(user::Column::TotpLastStep, Expr::value(step))
            .filter(user::Column::Id.eq(user_id))
            .filter(
                Condition::any()
                    .add(user::Column::TotpLastStep.is_null())
                    .add(user::Column::TotpLastStep.lt(step)),
            )
            .exec(&self.db)
            .await?;
        Ok(claimed.rows_affected == 1)
    }

    /// Confirms enrolment of `secret` (the one the first code was checked against) and
    /// replaces the recovery codes with `code_hashes`; the session `token_hash` that confirmed
    /// becomes a full one. `false` if the pending secret changed meanwhile (a concurrent
    /// re-enrolment) or enrolment was already confirmed: nothing is changed then.
    pub async fn confirm_totp(
        &self,
        user_id: i32,
        secret: &str,
        code_hashes: Vec<String>,
        token_hash: &str,
    ) -> Result<bool> {
        let txn = self.begin_write().await?;
        let confirmed = user::Entity::update_many()
            .col_expr(user::Column::TotpConfirmedAt, Expr::value(Utc::now()))
            .filter(user::Column::Id.eq(user_id))
            .filter(user::Column::TotpSecret.eq(secret))
            .filter(user::Column::TotpConfirmedAt.is_null())
            .exec(&txn)
            .await?;
        if confirmed.rows_affected != 1 {
            return Ok(false);
        }
        replace_recovery_codes(&txn, user_id, code_hashes).await?;
        api_token::Entity::update_many()
            .col_expr(api_token::Column::Scope, Expr::value(SCOPE_FULL))
            .filter(api_token::Column::TokenHash.eq(token_hash))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Replaces a user's recovery codes (the unused old ones stop working).
    pub async fn renew_recovery_codes(&self, user_id: i32, code_hashes: Vec<String>) -> Result<()> {
        let txn = self.begin_write().await?;
        replace_recovery_codes(&txn, user_id, code_hashes).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Turns two-factor off for a user: secret and recovery codes go.
    pub async fn clear_totp(&self, user_id: i32) -> Result<()> {
        let txn = self.begin_write().await?;
        user::Entity::update_many()
            .col_expr(user::Column::TotpSecret, Expr::value(Option::<String>::None))
            .col_expr(
                user::Column::TotpConfirmedAt,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
            .filter(user::Column::Id.eq(user_id))
            .exec(&txn)
            .await?;
        replace_recovery_codes(&txn, user_id, Vec::new()).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Uses one recovery code; `false` if it is not one of the user's unused codes.
    pub async fn use_recovery_code(&self, user_id: i32, code_hash: &str) -> Result<bool> {
        let used = recovery_code::Entity::update_many()
            .col_expr(recovery_code::Column::UsedAt, Expr::value(Utc::now()))
            .filter(recovery_code::Column::UserId.eq(user_id))
            .filter(recovery_code::Column::CodeHash.eq(code_hash))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(used.rows_affected == 1)
    }

    /// How many unused recovery codes the user has left.
    pub async fn recovery_codes_left(&self, user_id: i32) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(recovery_code::Entity::find()
            .filter(recovery_code::Column::UserId.eq(user_id))
            .filter(recovery_code::Column::UsedAt.is_null())
            .count(&self.db)
            .await?)
    }

    /// The organisation (nearest first) whose `require_2fa` covers this user: its home
    /// organisation's or any membership's, on the organisation itself or an ancestor.
    pub async fn two_factor_required_by(&self, u: &user::Model) -> Result<Option<organisation::Model>> {
        let requiring = organisation::Entity::find()
            .filter(organisation::Column::Require2fa.eq(true))
            .all(&self.db)
            .await?;
        if requiring.is_empty() {
            return Ok(None);
        }
        let mut paths: Vec<String> = self.memberships(u.id).await?.into_iter().map(|m| m.path).collect();
        if let Some(home) = organisation::Entity::find_by_id(u.organisation_id)
            .one(&self.db)
            .await?
        {
            paths.push(home.path);
        }
        Ok(requiring
            .into_iter()
            .filter(|o| paths.iter().any(|p| p.starts_with(o.path.as_str())))
            .max_by_key(|o| o.path.len()))
    }

    /// A user's unexpired sessions, newest first.
    pub async fn sessions(&self, user_id: i32) -> Result<Vec<api_token::Model>> {
        Ok(api_token::Entity::find()
            .filter(api_token::Column::UserId.eq(user_id))
            .filter(api_token::Column::ExpiresAt.gt(Utc::now()))
            .order_by_desc(api_token::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Ends one session of a user; `false` if the user has no such session.
    pub async fn end_session(&self, user_id: i32, session_id: i32) -> Result<bool> {
        let deleted = api_token::Entity::delete_many()
            .filter(api_token::Column::Id.eq(session_id))
            .filter(api_token::Column::UserId.eq(user_id))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected == 1)
    }

    /// Ends every session of a user managed under `auth`; returns how many ended.
    pub async fn end_sessions(&self, auth: &Authorized<cap::UsersManage>, u: &user::Model) -> Result<u64> {
        auth.ensure(u.organisation_id)?;
        let deleted = api_token::Entity::delete_many()
            .filter(api_token::Column::UserId.eq(u.id))
            .exec(&self.db)
            .await?;
        Ok(deleted.rows_affected)
    }
}

async fn replace_recovery_codes(txn: &impl sea_orm::ConnectionTrait, user_id: i32, hashes: Vec<String>) -> Result<()> {
    recovery_code::Entity::delete_many()
        .filter(recovery_code::Column::UserId.eq(user_id))
        .exec(txn)
        .await?;
    if hashes.is_empty() {
        return Ok(());
    }
    recovery_code::Entity::insert_many(hashes.into_iter().map(|h| recovery_code::ActiveModel {
        user_id: Set(user_id),
        code_hash: Set(h),
        used_at: Set(None),
        ..Default::default()
    }))
    .exec(txn)
    .await?;
    Ok(())
}

/// Marks the user's unused invitation and reset links used: a password chosen another way
/// makes them void.
pub(super) async fn void_invitations(db: &impl sea_orm::ConnectionTrait, user_id: i32) -> Result<()> {
    invitation::Entity::update_many()
        .col_expr(invitation::Column::UsedAt, Expr::value(Utc::now()))
        .filter(invitation::Column::UserId.eq(user_id))
        .filter(invitation::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
