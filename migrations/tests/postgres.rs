//! The same migrations on PostgreSQL: they all apply, the view reads the
//! current generation, and replicas starting at once apply each migration
//! exactly once.

use std::time::Duration;

use migrations::{Migrator, MigratorTrait, apply_to_postgres};
use sea_orm_migration::sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

#[tokio::test]
async fn every_migration_applies_and_the_view_shows_the_current_generation() {
    let url = test_postgres::database();
    assert_eq!(
        apply_to_postgres(&url, Duration::from_secs(5))
            .await
            .expect("migrates"),
        Migrator::migrations().len()
    );
    assert_eq!(
        apply_to_postgres(&url, Duration::from_secs(5))
            .await
            .expect("again"),
        0
    );
    let db = Database::connect(&url).await.expect("connects");
    db.execute_unprepared(
        "INSERT INTO projection_meta (generation, is_current, fold_version, applied_position, \
         global_state, started_at) VALUES (1, false, 6, 0, '{}', 0), (2, true, 6, 0, '{}', 0);
         INSERT INTO producer_state (generation, npn, status, fold_state, last_position, \
         last_activated_at, event_count, deleted, profile) VALUES \
         (1, '111', 'active', '{}', 1, 0, 1, false, NULL), \
         (2, '222', 'active', '{}', 2, 1765065600000000, 1, false, '{\"firstName\":\"Ada\"}')",
    )
    .await
    .expect("rows");
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT npn, to_char(last_activated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, \
             profile->>'firstName' AS first_name FROM current_producers",
        ))
        .await
        .expect("view reads");
    let seen: Vec<(String, String, String)> = rows
        .iter()
        .map(|row| {
            (
                row.try_get("", "npn").expect("npn"),
                row.try_get("", "day").expect("day"),
                row.try_get("", "first_name").expect("first name"),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![("222".to_owned(), "2025-12-07".to_owned(), "Ada".to_owned())]
    );
}

#[tokio::test]
async fn replicas_starting_at_once_apply_each_migration_exactly_once() {
    let url = test_postgres::database();
    let starts: Vec<_> = (0..3)
        .map(|_| tokio::spawn(apply_to_postgres_owned(url.clone())))
        .collect();
    let mut applied = Vec::new();
    for start in starts {
        applied.push(start.await.expect("joins").expect("migrates"));
    }
    applied.sort();
    assert_eq!(applied, vec![0, 0, Migrator::migrations().len()]);
    let db = Database::connect(&url).await.expect("connects");
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT version FROM seaql_migrations",
        ))
        .await
        .expect("reads");
    assert_eq!(rows.len(), Migrator::migrations().len());
}

async fn apply_to_postgres_owned(url: String) -> Result<usize, sea_orm_migration::DbErr> {
    apply_to_postgres(&url, Duration::from_secs(5)).await
}

#[tokio::test]
async fn every_migration_goes_down_and_up_again_on_postgres() {
    let url = test_postgres::database();
    let db = Database::connect(&url).await.expect("connects");
    Migrator::up(&db, None).await.expect("up");
    Migrator::down(&db, None)
        .await
        .expect("every migration down");
    assert!(
        Migrator::get_applied_migrations(&db)
            .await
            .expect("applied")
            .is_empty()
    );
    Migrator::up(&db, None).await.expect("up again");
}
