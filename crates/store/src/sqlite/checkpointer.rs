//! Checkpoints of the WAL on a thread of their own.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its
//! threshold, on the committing connection: the batch of deliveries (or
//! the rebuild's chunk) that happened to cross it waited while up to the
//! whole WAL was copied into the database file, and every writer queued
//! behind it waited too (the longest wait of a delivery during a rebuild,
//! 148-174 ms, was such a checkpoint). The writers turn it off
//! (`wal_autocheckpoint = 0`); this thread copies the WAL every
//! [`INTERVAL`] instead, with `PASSIVE` checkpoints that wait for no reader
//! or writer and that none waits for.
//!
//! A checkpoint beside a writer that keeps appending never copies the
//! last frames, so SQLite never starts the WAL over, and a WAL that only
//! grows cost ingest 15-20% (12,054 and 12,383/s against 13,930 and
//! 15,199/s, alternating). So once the WAL is past [`RESTART_PAGES`], the
//! thread copies until a pass finds little new to copy (a short pass
//! leaves few frames behind it), syncs the database file, then takes the
//! writers' turn for one last checkpoint of that little: everything is
//! then copied and the next write starts the WAL from its beginning.
//!
//! The sync before the turn matters as much as the copying: SQLite syncs
//! the database file only after a checkpoint that copied the whole WAL,
//! so beside a writer every page copied so far is left to the kernel, and
//! the checkpoint in the turn used to sync all of them (273 ms for a
//! checkpoint of 369 pages, while every delivery waited). Synced first,
//! the turn is held for a few tens of milliseconds.

use std::fs::File;
use std::sync::Weak;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use crate::database::{Target, ThreadConnections, WriteTurn};

/// How often the WAL is checkpointed.
pub(crate) const INTERVAL: Duration = Duration::from_secs(1);

/// WAL pages (of 4 KiB) past which the WAL is started over.
const RESTART_PAGES: i64 = 40_000;

/// A pass without the turn that copied at most this many pages is the
/// last before the turn's: it was short, so about as few pages were
/// appended meanwhile, and those are what the turn's checkpoint copies.
const LEFT_FOR_THE_TURN: i64 = 500;

/// Checkpoints without the turn before the one in it, at most.
const CATCH_UP_PASSES: usize = 6;

/// Starts the checkpointing thread for the file at `path`; it ends once
/// `alive` can no longer be upgraded (the store is gone).
pub(crate) fn start(
    path: &str,
    busy_timeout: Duration,
    turn: WriteTurn,
    alive: Weak<()>,
) -> std::io::Result<()> {
    let connections = ThreadConnections::new(
        Target::SqliteFile(path.to_owned()),
        format!("PRAGMA busy_timeout = {};", busy_timeout.as_millis()),
    );
    let database_file = File::open(path)?;
    std::thread::Builder::new()
        .name("wal-checkpointer".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(INTERVAL);
                if alive.upgrade().is_none() {
                    return;
                }
                if let Err(error) =
                    copy_and_restart(&connections, &database_file, &turn, RESTART_PAGES)
                {
                    tracing::warn!(%error, "a WAL checkpoint failed; the next one retries");
                }
            }
        })?;
    Ok(())
}

/// Copies the WAL into the database file; past `restart_pages` (the
/// service's: [`RESTART_PAGES`]), until the WAL can start over.
fn copy_and_restart(
    connections: &ThreadConnections,
    database_file: &File,
    turn: &WriteTurn,
    restart_pages: i64,
) -> Result<(), CheckpointFailed> {
    let (mut frames, mut copied) = checkpoint(connections)?;
    if frames < restart_pages {
        return Ok(());
    }
    for _ in 0..CATCH_UP_PASSES {
        let (frames_now, copied_now) = checkpoint(connections)?;
        if frames_now < frames {
            // The WAL started over meanwhile.
            return Ok(());
        }
        let copied_by_this_pass = copied_now - copied;
        (frames, copied) = (frames_now, copied_now);
        if copied_by_this_pass <= LEFT_FOR_THE_TURN {
            break;
        }
    }
    // Appends faster than the passes copy leave a pass's worth of pages
    // for the turn: more than a short pass leaves, still far less than a
    // WAL that only grows would cost.
    //
    // A checkpoint syncs the database file only when it copied the whole
    // WAL, which beside a writer never happens: the pages copied so far are
    // still the kernel's to write. Sync them here, so the checkpoint in the
    // turn syncs only its own.
    database_file.sync_data()?;
    let _turn = turn.blocking_lock();
    checkpoint(connections)?;
    Ok(())
}

/// Why a round of the checkpointer failed.
#[derive(Debug, thiserror::Error)]
enum CheckpointFailed {
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error("syncing the database file failed: {0}")]
    Sync(#[from] std::io::Error),
}

/// One `PASSIVE` checkpoint on this thread's connection; returns the WAL's
/// frames and how many of them are now in the database file.
pub(crate) fn checkpoint(connections: &ThreadConnections) -> Result<(i64, i64), DbErr> {
    let statement = Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_checkpoint(PASSIVE)");
    let rows = connections.with(|db| db.query_all_raw(statement))??;
    match rows.first() {
        Some(row) => Ok((row.try_get_by_index(1)?, row.try_get_by_index(2)?)),
        None => Ok((0, 0)),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    use sea_orm::{ConnectionTrait, Database};

    use super::{File, ThreadConnections, WriteTurn, checkpoint, copy_and_restart};
    use crate::database::{Target, Writer, WriterPragmas};

    #[test]
    fn past_its_threshold_the_wal_starts_over_while_a_writer_keeps_appending() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.db").display().to_string();
        let db = Database::connect(format!("sqlite:{path}?mode=rwc")).expect("open");
        db.execute_unprepared(
            "PRAGMA journal_mode = WAL; CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB NOT NULL);",
        )
        .expect("create");
        let turn = WriteTurn::default();
        let pragmas = WriterPragmas {
            busy_timeout: Duration::from_secs(1),
            max_page_count: None,
            sync_each_commit: false,
        };
        let writer = Arc::new(Writer::new(
            &Target::SqliteFile(path.clone()),
            pragmas,
            turn.clone(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let appending = std::thread::spawn({
            let (writer, stop) = (writer.clone(), stop.clone());
            move || {
                while !stop.load(Ordering::Relaxed) {
                    writer
                        .transaction(|txn| {
                            txn.connection().execute_unprepared(
                                "INSERT INTO t (v) SELECT randomblob(2000) FROM (SELECT 1 UNION ALL SELECT 2)",
                            )
                        })
                        .expect("appended");
                }
            }
        });
        let connections = ThreadConnections::new(
            Target::SqliteFile(path.clone()),
            "PRAGMA busy_timeout = 1000;".to_owned(),
        );
        let database_file = File::open(&path).expect("database file");
        let frames = || checkpoint(&connections).expect("checkpoint").0;
        while frames() < 5_000 {
            std::thread::sleep(Duration::from_millis(10));
        }
        let before = frames();
        copy_and_restart(&connections, &database_file, &turn, 1_000).expect("restarted");
        stop.store(true, Ordering::Relaxed);
        appending.join().expect("the writer stopped");
        // The writer's transactions after the restart started the WAL from
        // its beginning: it holds only what they appended.
        let after = frames();
        assert!(
            after < before,
            "the WAL went from {before} to {after} frames"
        );
    }
}
