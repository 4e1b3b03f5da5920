//! Direct reads against a real SQLite file written by another connection.

use std::time::Duration;

use super::{Reader, Target};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend};

fn writer(path: &std::path::Path) -> DatabaseConnection {
    let db = Database::connect(format!("sqlite:{}?mode=rwc", path.display())).expect("open");
    db.execute_unprepared(
        "PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL);",
    )
    .expect("create");
    db
}

fn value_of(key: &str) -> SelectStatement {
    Query::select()
        .column(Alias::new("v"))
        .from(Alias::new("t"))
        .and_where(Expr::col(Alias::new("k")).eq(key))
        .to_owned()
}

fn read(reader: &Reader, key: &str) -> Option<i64> {
    let select = DbBackend::Sqlite.build(&value_of(key));
    let rows = reader.with(|db| db.query_all_raw(select)).expect("read");
    rows.first().map(|row| row.try_get("", "v").expect("v"))
}

fn reader_for(path: &std::path::Path) -> Reader {
    Reader::new(
        &Target::SqliteFile(path.display().to_string()),
        Duration::from_secs(1),
    )
}

/// A fresh database in a temporary folder, its writer and a direct reader.
fn fixture() -> (tempfile::TempDir, DatabaseConnection, Reader) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.db");
    let db = writer(&path);
    let reader = reader_for(&path);
    (dir, db, reader)
}

fn set(db: &DatabaseConnection, key: &str, value: i64) {
    db.execute_unprepared(&format!(
        "INSERT OR REPLACE INTO t VALUES ('{key}', {value})"
    ))
    .expect("write");
}

#[test]
fn sees_each_commit_of_another_connection_at_once() {
    let (_dir, db, reader) = fixture();
    assert_eq!(read(&reader, "a"), None);
    for value in 1..=3 {
        set(&db, "a", value);
        assert_eq!(read(&reader, "a"), Some(value));
    }
}

#[test]
fn a_finished_read_leaves_no_transaction_open_so_checkpoints_complete() {
    let (_dir, db, reader) = fixture();
    for value in 0..50 {
        set(&db, "a", value);
        assert_eq!(read(&reader, "a"), Some(value));
    }
    let checkpoint = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(TRUNCATE)",
        ))
        .expect("checkpoint")
        .expect("a row");
    let busy: i64 = checkpoint.try_get("", "busy").expect("busy");
    assert_eq!(busy, 0, "a reader still holds a snapshot");
    assert_eq!(read(&reader, "a"), Some(49));
}

#[test]
fn each_thread_reads_on_its_own_connection() {
    let (_dir, db, reader) = fixture();
    set(&db, "a", 7);
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| (0..200).all(|_| read(&reader, "a") == Some(7))))
            .collect();
        for handle in readers {
            assert!(
                handle.join().expect("thread"),
                "a thread read a wrong value"
            );
        }
    });
}

#[test]
fn more_databases_than_a_thread_keeps_open_still_read_correctly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let databases: Vec<_> = (0..7)
        .map(|i| {
            let path = dir.path().join(format!("t{i}.db"));
            let db = writer(&path);
            set(&db, "a", i);
            (db, reader_for(&path))
        })
        .collect();
    for round in 0..3 {
        for (i, (_, reader)) in (0..).zip(&databases) {
            assert_eq!(read(reader, "a"), Some(i), "round {round}");
        }
    }
}
