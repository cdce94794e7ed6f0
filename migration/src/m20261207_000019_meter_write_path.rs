//! PostgreSQL only: what a stored meter value costs the server.
//!
//! - `meter_value.charger_id` stops being a foreign key. PostgreSQL checks a foreign key row by
//!   row, locking the charger's row (`FOR KEY SHARE`, a WAL record each); under meter values
//!   that check was about 40 % of PostgreSQL's CPU. The column is a label: meter values are
//!   read only by transaction (whose foreign key stays), values reach the database only from a
//!   charger's open session, and deleting a charger deletes its values in the same database
//!   transaction (`Store::delete_charger`).
//! - The message log's pages are compressed with lz4 instead of pglz, where the server has it:
//!   pglz compressing every page was the largest single function in PostgreSQL's profile.
//!
//! SQLite checks a foreign key for a few instructions and compresses nothing: it is left alone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const DROP_CHARGER_KEY: &str = "ALTER TABLE meter_value DROP CONSTRAINT IF EXISTS meter_value_charger_id_fkey";
const RESTORE_CHARGER_KEY: &str = "ALTER TABLE meter_value ADD CONSTRAINT meter_value_charger_id_fkey \
     FOREIGN KEY (charger_id) REFERENCES charger (id) ON DELETE CASCADE NOT VALID";
const HAS_LZ4: &str = "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared(DROP_CHARGER_KEY).await?;
        if db
            .query_one(Statement::from_string(DbBackend::Postgres, HAS_LZ4))
            .await?
            .is_some()
        {
            db.execute_unprepared("ALTER TABLE message_page ALTER COLUMN body SET COMPRESSION lz4")
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared("ALTER TABLE message_page ALTER COLUMN body SET COMPRESSION pglz")
            .await?;
        db.execute_unprepared(RESTORE_CHARGER_KEY).await?;
        Ok(())
    }
}
