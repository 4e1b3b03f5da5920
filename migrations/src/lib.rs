//! The schema of producer-projector, one migration per change, named by date.
//!
//! Migrations are applied by the store at start (`Store::open`) and by
//! `producer-projector migrate`. They use sea-query's portable schema
//! builders, so the same files serve SQLite now and PostgreSQL later; the
//! one view (`current_producers`) is written in each backend's SQL.

pub use sea_orm_migration::prelude::*;

mod m20261126_000001_create_event_log;
mod m20261126_000002_create_projection;
mod m20261127_000003_create_delivery_rejections;
mod m20261127_000004_drop_unused_received_index;
mod m20261127_000005_add_rebuild_columns;
mod m20261207_000006_readable_producer_state;

/// Every migration, oldest first.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_event_log::Migration),
            Box::new(m20261126_000002_create_projection::Migration),
            Box::new(m20261127_000003_create_delivery_rejections::Migration),
            Box::new(m20261127_000004_drop_unused_received_index::Migration),
            Box::new(m20261127_000005_add_rebuild_columns::Migration),
            Box::new(m20261207_000006_readable_producer_state::Migration),
        ]
    }
}
