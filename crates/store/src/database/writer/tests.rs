//! The direct writer's statements inside its transactions.

use std::time::Duration;

use sea_orm::DbBackend;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, InsertStatement, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, Database, DbErr};

use super::{Target, WriteTurn, WriteTxn, Writer, WriterPragmas};

/// A file with table `t (k TEXT PRIMARY KEY, v INTEGER NOT NULL)` and its
/// direct writer.
fn fixture() -> (tempfile::TempDir, Writer) {
    fixture_with(true)
}

/// [`fixture`], with commits that wait for the disk or not.
fn fixture_with(sync_each_commit: bool) -> (tempfile::TempDir, Writer) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("t.db");
    let db = Database::connect(format!("sqlite:{}?mode=rwc", path.display())).expect("open");
    db.execute_unprepared(
        "PRAGMA journal_mode = WAL; CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER NOT NULL);",
    )
    .expect("create");
    let pragmas = WriterPragmas {
        busy_timeout: Duration::from_secs(1),
        max_page_count: None,
        sync_each_commit,
    };
    let writer = Writer::new(
        &Target::SqliteFile(path.display().to_string()),
        pragmas,
        WriteTurn::default(),
    );
    (dir, writer)
}

fn rows(pairs: &[(&str, Option<i64>)]) -> InsertStatement {
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new("t"))
        .columns([Alias::new("k"), Alias::new("v")]);
    for (key, value) in pairs {
        insert.values_panic([(*key).into(), (*value).into()]);
    }
    insert
}

/// Runs `insert` in `txn`.
fn insert(txn: &WriteTxn, insert: &InsertStatement) -> Result<(), DbErr> {
    txn.execute(DbBackend::Sqlite.build(insert))
}

fn count() -> SelectStatement {
    Query::select()
        .expr_as(Expr::col(Alias::new("k")).count(), Alias::new("n"))
        .from(Alias::new("t"))
        .to_owned()
}

fn rows_in(writer: &Writer) -> i64 {
    writer
        .transaction(|txn| {
            let rows = txn
                .connection()
                .query_all_raw(DbBackend::Sqlite.build(&count()))?;
            Ok::<_, DbErr>(rows[0].try_get::<i64>("", "n").expect("n"))
        })
        .expect("count")
}

/// Every row of `t` as (key, value), by key.
fn values_in(writer: &Writer) -> Vec<(String, i64)> {
    let all = Query::select()
        .columns([Alias::new("k"), Alias::new("v")])
        .from(Alias::new("t"))
        .order_by(Alias::new("k"), Order::Asc)
        .to_owned();
    writer
        .transaction(|txn| {
            let rows = txn
                .connection()
                .query_all_raw(DbBackend::Sqlite.build(&all))?;
            Ok::<_, DbErr>(
                rows.iter()
                    .map(|row| {
                        (
                            row.try_get::<String>("", "k").expect("k"),
                            row.try_get::<i64>("", "v").expect("v"),
                        )
                    })
                    .collect(),
            )
        })
        .expect("rows")
}

fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected
        .iter()
        .map(|(key, value)| ((*key).to_owned(), *value))
        .collect()
}

#[test]
fn an_insert_writes_its_rows() {
    let (_dir, writer) = fixture();
    writer
        .transaction(|txn| insert(txn, &rows(&[("a", Some(1)), ("b", Some(2))])))
        .expect("inserted");
    assert_eq!(values_in(&writer), pairs(&[("a", 1), ("b", 2)]));
}

#[test]
fn an_update_changes_what_it_matches_each_time_its_statement_runs() {
    let (_dir, writer) = fixture();
    writer
        .transaction(|txn| {
            insert(
                txn,
                &rows(&[("a", Some(1)), ("b", Some(2)), ("c", Some(3))]),
            )
        })
        .expect("inserted");
    // The same text each time: the prepared statement is kept and rerun.
    let below = |limit: i64| {
        Query::update()
            .table(Alias::new("t"))
            .value(Alias::new("v"), Expr::col(Alias::new("v")).add(10))
            .and_where(Expr::col(Alias::new("v")).lt(limit))
            .to_owned()
    };
    writer
        .transaction(|txn| {
            txn.update(&below(3))?;
            txn.update(&below(3))
        })
        .expect("updated");
    assert_eq!(
        values_in(&writer),
        pairs(&[("a", 11), ("b", 12), ("c", 3)]),
        "a and b, then none: both are 11 and 12 by then"
    );
    writer
        .transaction(|txn| txn.update(&below(100)))
        .expect("updated");
    assert_eq!(
        values_in(&writer),
        pairs(&[("a", 21), ("b", 22), ("c", 13)])
    );
}

#[test]
fn a_broken_constraint_fails_the_insert_and_the_transaction_keeps_nothing() {
    let (_dir, writer) = fixture();
    writer
        .transaction(|txn| insert(txn, &rows(&[("a", Some(1))])))
        .expect("first row");
    for broken in [
        // The second row repeats the first one's key.
        rows(&[("b", Some(2)), ("a", Some(3))]),
        // The second row has no value.
        rows(&[("c", Some(4)), ("d", None)]),
    ] {
        let failed = writer.transaction(|txn| {
            insert(txn, &rows(&[("e", Some(5))]))?;
            insert(txn, &broken)
        });
        assert!(failed.is_err(), "a constraint was broken");
        assert_eq!(
            rows_in(&writer),
            1,
            "neither the rows before the broken one nor the earlier statement stay"
        );
    }
}

#[test]
fn a_writer_whose_commits_do_not_wait_for_the_disk_still_commits() {
    let (_dir, unsynced) = fixture_with(false);
    unsynced
        .transaction(|txn| insert(txn, &rows(&[("a", Some(1))])))
        .expect("commits");
    assert_eq!(
        rows_in(&unsynced),
        1,
        "an unsynced commit is still a commit"
    );
}
