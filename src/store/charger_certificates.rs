//! The certificate voltgate's CA issued each charger (what the charger installed, when it was
//! last asked for a CSR, so renewal asks at most once a day) and a security profile upgrade in
//! flight.

use chrono::{DateTime, Utc};
use entity::charger;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{AuditEntry, Result, Store};
use crate::access::{Authorized, cap};

impl Store {
    /// The charger installed the certificate with `serial`, valid until `expires_at`.
    pub async fn record_certificate(
        &self,
        auth: &Authorized<cap::ChargerSecurity>,
        c: &charger::Model,
        serial: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        auth.ensure(c.organisation_id.unwrap_or_default())?;
        charger::Entity::update_many()
            .col_expr(charger::Column::CertificateSerial, Expr::value(serial))
            .col_expr(charger::Column::CertificateExpiresAt, Expr::value(expires_at))
            .filter(charger::Column::Id.eq(&c.id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The charger was asked for a CSR now.
    pub async fn note_certificate_requested(
        &self,
        auth: &Authorized<cap::ChargerSecurity>,
        c: &charger::Model,
    ) -> Result<()> {
        auth.ensure(c.organisation_id.unwrap_or_default())?;
        charger::Entity::update_many()
            .col_expr(charger::Column::CertificateRequestedAt, Expr::value(Utc::now()))
            .filter(charger::Column::Id.eq(&c.id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The charger agreed to move to `profile`; `None` ends an upgrade it refused.
    pub async fn stage_security_profile(
        &self,
        auth: &Authorized<cap::ChargerSecurity>,
        c: &charger::Model,
        profile: Option<u8>,
    ) -> Result<()> {
        auth.ensure(c.organisation_id.unwrap_or_default())?;
        charger::Entity::update_many()
            .col_expr(
                charger::Column::SecurityProfilePending,
                Expr::value(profile.map(i32::from)),
            )
            .filter(charger::Column::Id.eq(&c.id))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// The charger connected meeting its pending `profile`: it becomes its profile (the old
    /// one no longer admits it); audited in the same write. False if it was adopted already.
    pub async fn adopt_security_profile(&self, charger_id: &str, profile: u8) -> Result<bool> {
        let txn = self.begin_write().await?;
        let Some(c) = charger::Entity::find_by_id(charger_id)
            .filter(charger::Column::SecurityProfilePending.eq(i32::from(profile)))
            .one(&txn)
            .await?
        else {
            return Ok(false);
        };
        charger::Entity::update_many()
            .col_expr(charger::Column::SecurityProfile, Expr::value(i32::from(profile)))
            .col_expr(
                charger::Column::SecurityProfilePending,
                Expr::value(Option::<i32>::None),
            )
            .filter(charger::Column::Id.eq(charger_id))
            .exec(&txn)
            .await?;
        let entry = AuditEntry {
            action: "charger.security_profile.adopted".into(),
            organisation_id: c.organisation_id,
            charger_id: Some(charger_id.to_owned()),
            resource: Some(format!("charger:{charger_id}")),
            request: Some(serde_json::json!({"from": c.security_profile, "to": profile})),
            outcome: "ok".into(),
            ..Default::default()
        };
        entry.into_row().insert(&txn).await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Chargers whose certificate expires before `before` and that were not asked for a new
    /// one since `asked_since`: what renewal asks.
    pub async fn certificates_to_renew(
        &self,
        before: DateTime<Utc>,
        asked_since: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<charger::Model>> {
        Ok(charger::Entity::find()
            .filter(charger::Column::CertificateExpiresAt.lt(before))
            .filter(charger::Column::OrganisationId.is_not_null())
            .filter(
                Condition::any()
                    .add(charger::Column::CertificateRequestedAt.is_null())
                    .add(charger::Column::CertificateRequestedAt.lt(asked_since)),
            )
            .order_by_asc(charger::Column::CertificateExpiresAt)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}
