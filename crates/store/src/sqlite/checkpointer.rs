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
//! thread copies until little is left, then takes the writers' turn for
//! one last checkpoint of that little: everything is then copied and the
//! next write starts the WAL from its beginning. While a reader still needs
//! many of the pages (a rebuild's long reads), it leaves the restart to a
//! later try rather than make the writers wait.

use std::sync::Weak;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use super::connections::ThreadConnections;
use super::writer::WriteTurn;

/// How often the WAL is checkpointed.
pub(crate) const INTERVAL: Duration = Duration::from_secs(1);

/// WAL pages (of 4 KiB) past which the WAL is started over.
const RESTART_PAGES: i64 = 40_000;

/// Pages left uncopied that the last checkpoint, in the writers' turn, may
/// copy: a few milliseconds of copying.
const LEFT_FOR_THE_TURN: i64 = 1_000;

/// Checkpoints without the turn before the last one, at most.
const CATCH_UP_PASSES: usize = 4;

/// Starts the checkpointing thread for the file at `path`; it ends once
/// `alive` can no longer be upgraded (the store is gone).
pub(crate) fn start(
    path: &str,
    busy_timeout: Duration,
    turn: WriteTurn,
    alive: Weak<()>,
) -> std::io::Result<()> {
    let connections = ThreadConnections::new(
        path,
        format!("PRAGMA busy_timeout = {};", busy_timeout.as_millis()),
    );
    std::thread::Builder::new()
        .name("wal-checkpointer".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(INTERVAL);
                if alive.upgrade().is_none() {
                    return;
                }
                if let Err(error) = copy_and_restart(&connections, &turn) {
                    tracing::warn!(%error, "a WAL checkpoint failed; the next one retries");
                }
            }
        })?;
    Ok(())
}

/// Copies the WAL into the database file; past [`RESTART_PAGES`], until
/// the WAL can start over.
fn copy_and_restart(connections: &ThreadConnections, turn: &WriteTurn) -> Result<(), DbErr> {
    let (mut frames, mut copied) = checkpoint(connections)?;
    if frames < RESTART_PAGES {
        return Ok(());
    }
    for _ in 0..CATCH_UP_PASSES {
        if frames - copied <= LEFT_FOR_THE_TURN {
            let _turn = turn.blocking_lock();
            checkpoint(connections)?;
            return Ok(());
        }
        (frames, copied) = checkpoint(connections)?;
    }
    // Still much left: a reader needs those pages (a rebuild's long
    // reads). The WAL starts over at a later try.
    Ok(())
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
