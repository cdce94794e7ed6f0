//! What the load generators share; each takes it in with `#[path = "support/mod.rs"] mod support;`.

use chrono::Utc;
use entity::charger;
use sea_orm::{ActiveValue::Set, EntityTrait};

/// Registers the chargers `ids` directly in the server's database with one shared password
/// hash, stored as voltgate stores the passwords it generates (registration without a
/// password, the usual way); ids already there are left as they are.
pub async fn register_chargers(database_url: &str, ids: &[String], password: &str) -> anyhow::Result<()> {
    let db = sea_orm::Database::connect(database_url).await?;
    let hash = voltgate::crypto::hash_generated_secret(password);
    let now = Utc::now();
    for chunk in ids.chunks(500) {
        let rows = chunk.iter().map(|id| charger::ActiveModel {
            id: Set(id.clone()),
            organisation_id: Set(Some(1)),
            password_hash: Set(Some(hash.clone())),
            registration_status: Set(entity::values::RegistrationStatus::Accepted),
            created_at: Set(now),
            ..Default::default()
        });
        charger::Entity::insert_many(rows)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(charger::Column::Id)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(&db)
            .await?;
    }
    Ok(())
}
