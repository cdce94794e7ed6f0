//! Passwords offered to chargers while a rotation waits for them to be used (see
//! `entity::charger_password_offer` for why several may wait at once).

use chrono::{DateTime, Utc};
use entity::values::PasswordOfferState;
use entity::{charger, charger_password_offer as offer};
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{AuditEntry, Error, Result, Store};
use crate::access::{Authorized, cap};

/// Offers that may wait for one charger at most; the next rotation waits for the charger.
pub const MAX_OFFERS: u64 = 3;

impl Store {
    /// Records a password about to be sent to `c`, before it is sent: a charger that takes it
    /// and reconnects at once must find it. 409 while [`MAX_OFFERS`] wait.
    pub async fn offer_password(
        &self,
        auth: &Authorized<cap::ChargerSecurity>,
        c: &charger::Model,
        password_hash: String,
    ) -> Result<i64> {
        auth.ensure(c.organisation_id.unwrap_or_default())?;
        let txn = self.begin_write().await?;
        let waiting = offer::Entity::find()
            .filter(offer::Column::ChargerId.eq(&c.id))
            .count(&txn)
            .await?;
        if waiting >= MAX_OFFERS {
            return Err(Error::Conflict(format!(
                "{waiting} password changes are waiting for charger {} to reconnect with its new password",
                c.id
            )));
        }
        let row = offer::ActiveModel {
            charger_id: Set(c.id.clone()),
            password_hash: Set(password_hash),
            state: Set(PasswordOfferState::Sent),
            offered_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        txn.commit().await?;
        Ok(row.id)
    }

    /// What became of offer `id` once the command ended: the charger took it, or no answer came.
    pub async fn settle_password_offer(&self, id: i64, state: PasswordOfferState) -> Result<()> {
        offer::Entity::update_many()
            .col_expr(offer::Column::State, sea_orm::sea_query::Expr::value(state))
            .filter(offer::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Drops an offer the charger refused or never received.
    pub async fn withdraw_password_offer(&self, id: i64) -> Result<()> {
        offer::Entity::delete_by_id(id).exec(&self.db).await?;
        Ok(())
    }

    /// Offers waiting for `charger_id`, newest first.
    pub async fn password_offers(&self, charger_id: &str) -> Result<Vec<offer::Model>> {
        Ok(offer::Entity::find()
            .filter(offer::Column::ChargerId.eq(charger_id))
            .order_by_desc(offer::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// The charger connected with `used`: it becomes its password and every other password,
    /// the old one included, stops working; audited in the same write. False when the offer
    /// was gone already (another connection adopted it first, or the charger refused it).
    pub async fn adopt_password(&self, used: &offer::Model) -> Result<bool> {
        let txn = self.begin_write().await?;
        let taken = offer::Entity::delete_by_id(used.id).exec(&txn).await?.rows_affected;
        if taken == 0 {
            return Ok(false);
        }
        let Some(c) = charger::Entity::find_by_id(&used.charger_id).one(&txn).await? else {
            return Ok(false);
        };
        let organisation_id = c.organisation_id;
        let mut active: charger::ActiveModel = c.into();
        active.password_hash = Set(Some(used.password_hash.clone()));
        active.password_changed_at = Set(Some(Utc::now()));
        active.update(&txn).await?;
        withdraw_all(&txn, &used.charger_id).await?;
        let entry = AuditEntry {
            user_id: None,
            action: "charger.password.adopted".into(),
            organisation_id,
            charger_id: Some(used.charger_id.clone()),
            resource: Some(format!("charger:{}", used.charger_id)),
            request: None,
            outcome: "ok".into(),
            detail: Some(format!(
                "connected with the password offered at {}; the previous one no longer works",
                used.offered_at.to_rfc3339()
            )),
        };
        entry.into_row().insert(&txn).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Chargers with a password set before `cutoff` (or, never changed, registered before it)
    /// and no rotation waiting: what scheduled rotation renews.
    pub async fn chargers_with_passwords_older_than(
        &self,
        cutoff: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<charger::Model>> {
        let waiting = Query::select()
            .column(offer::Column::ChargerId)
            .from(offer::Entity)
            .to_owned();
        let set_at = sea_orm::sea_query::Func::coalesce([
            sea_orm::sea_query::Expr::col(charger::Column::PasswordChangedAt).into(),
            sea_orm::sea_query::Expr::col(charger::Column::CreatedAt).into(),
        ]);
        Ok(charger::Entity::find()
            .filter(charger::Column::PasswordHash.is_not_null())
            .filter(charger::Column::OrganisationId.is_not_null())
            .filter(sea_orm::sea_query::Expr::expr(set_at).lt(cutoff))
            .filter(charger::Column::Id.not_in_subquery(waiting))
            .order_by_asc(charger::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}

/// Ends every rotation waiting for `charger_id` (its password was set some other way).
pub(super) async fn withdraw_all(db: &impl ConnectionTrait, charger_id: &str) -> Result<()> {
    offer::Entity::delete_many()
        .filter(offer::Column::ChargerId.eq(charger_id))
        .exec(db)
        .await?;
    Ok(())
}
