//! The schema of producer-projector, one migration per change, named by date.
//!
//! Migrations are applied by the store at start (`Store::open`) and by
//! `producer-projector migrate`, through [`apply_to_sqlite`] or
//! [`apply_to_postgres`]. They use sea-query's portable schema builders, so
//! the same files serve both backends; the one view (`current_producers`)
//! is written in each backend's SQL.

use std::time::Duration;

pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::sqlx::sqlite::SqliteJournalMode;
use sea_orm_migration::sea_orm::{ConnectOptions, Database, DbBackend, Statement};

mod m20261126_000001_create_event_log;
mod m20261126_000002_create_projection;
mod m20261127_000003_create_delivery_rejections;
mod m20261127_000004_drop_unused_received_index;
mod m20261127_000005_add_rebuild_columns;
mod m20261207_000006_readable_producer_state;
mod m20261208_000007_create_rebuild_lease;

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
            Box::new(m20261208_000007_create_rebuild_lease::Migration),
        ]
    }
}

/// The name of every migration, oldest first: what the `seaql_migrations`
/// table lists once all of them are applied.
pub fn names() -> Vec<String> {
    Migrator::migrations()
        .iter()
        .map(|migration| migration.name().to_owned())
        .collect()
}

/// Applies every pending migration to the SQLite file at `url` (created,
/// with its WAL journal, if missing) and returns how many were pending.
///
/// sea-orm-migration runs on sea-orm's async flavour only, so this opens a
/// connection of its own (through sqlx) and closes it when done; the store
/// then works on connections of its own.
///
/// Stores opening at once in one process (replicas of a test) take turns:
/// sea-orm-migration's check of what is pending and its applying are not
/// one transaction. Processes starting at once on one file are not a
/// deployment SQLite serves (one process serves a file).
pub async fn apply_to_sqlite(url: &str, busy_timeout: Duration) -> Result<usize, DbErr> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = TURN.lock().await;
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |sqlite| {
            sqlite
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(busy_timeout)
        });
    let db = Database::connect(options).await?;
    let pending = Migrator::get_pending_migrations(&db).await?.len();
    Migrator::up(&db, None).await?;
    db.close().await?;
    Ok(pending)
}

/// The key of the session-level advisory lock that replicas starting at
/// once take around their migrations on PostgreSQL, so that each migration
/// is applied once: the second replica waits, then finds nothing pending.
/// (Any fixed number no other tool of the database uses; this one spells
/// "migr" in ASCII.)
pub const POSTGRES_MIGRATION_LOCK: i64 = 0x6D69_6772;

/// Applies every pending migration to the PostgreSQL database at `url`
/// and returns how many were pending. Several processes may call it at
/// once: each holds [`POSTGRES_MIGRATION_LOCK`] while it looks for pending
/// migrations and applies them, on one connection that it closes when
/// done (which releases the lock even if a migration failed). Connecting
/// may take up to `connect_timeout`.
pub async fn apply_to_postgres(url: &str, connect_timeout: Duration) -> Result<usize, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(connect_timeout)
        .acquire_timeout(connect_timeout)
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    let lock = |function: &str| {
        Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT {function}($1)"),
            [POSTGRES_MIGRATION_LOCK.into()],
        )
    };
    db.execute_raw(lock("pg_advisory_lock")).await?;
    let applied = async {
        let pending = Migrator::get_pending_migrations(&db).await?.len();
        Migrator::up(&db, None).await?;
        Ok::<_, DbErr>(pending)
    }
    .await;
    let unlocked = db.execute_raw(lock("pg_advisory_unlock")).await;
    db.close().await?;
    let pending = applied?;
    unlocked?;
    Ok(pending)
}
