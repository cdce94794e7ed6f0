//! The certificate voltgate's CA issued each charger: what the charger installed, and when it
//! was last asked for a CSR (so renewal asks at most once a day).

use chrono::{DateTime, Utc};
use entity::charger;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{Result, Store};
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
