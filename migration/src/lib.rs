//! Schema migrations, one per change, never edited after they land.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_chargers;
mod m20261123_000002_access;
mod m20261123_000003_commands;
mod m20261123_000004_charging;
mod m20261123_000005_accounts;
mod m20261123_000006_charger_profile;
mod m20261201_000007_clock_skew;
mod m20261202_000008_station_events;
mod m20261202_000009_device_model;
mod m20261203_000010_grants_and_messages;
mod m20261203_000011_charger_security;
mod m20261204_000012_local_lists;
mod m20261205_000013_campaigns;
mod m20261205_000014_webhooks;
mod m20261205_000015_auto_tickets;
mod m20261206_000016_alert_subscriptions;
mod m20261207_000017_message_pages;
mod m20261207_000018_firmware_status_index;
mod m20261207_000019_meter_write_path;
mod util;

/// All migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_chargers::Migration),
            Box::new(m20261123_000002_access::Migration),
            Box::new(m20261123_000003_commands::Migration),
            Box::new(m20261123_000004_charging::Migration),
            Box::new(m20261123_000005_accounts::Migration),
            Box::new(m20261123_000006_charger_profile::Migration),
            Box::new(m20261201_000007_clock_skew::Migration),
            Box::new(m20261202_000008_station_events::Migration),
            Box::new(m20261202_000009_device_model::Migration),
            Box::new(m20261203_000010_grants_and_messages::Migration),
            Box::new(m20261203_000011_charger_security::Migration),
            Box::new(m20261204_000012_local_lists::Migration),
            Box::new(m20261205_000013_campaigns::Migration),
            Box::new(m20261205_000014_webhooks::Migration),
            Box::new(m20261205_000015_auto_tickets::Migration),
            Box::new(m20261206_000016_alert_subscriptions::Migration),
            Box::new(m20261207_000017_message_pages::Migration),
            Box::new(m20261207_000018_firmware_status_index::Migration),
            Box::new(m20261207_000019_meter_write_path::Migration),
        ]
    }
}
