//! Checkpoints of the WAL on a thread of their own.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its
//! threshold, on the committing connection: the batch of deliveries (or
//! the rebuild's chunk) that happened to cross it waited while up to the
//! whole WAL was copied into the database file, and every writer queued
//! behind it waited too. The writers turn it off (`wal_autocheckpoint =
//! 0`), and this thread checkpoints every [`INTERVAL`] instead. A
//! `PASSIVE` checkpoint waits for no reader or writer, and none waits for
//! it; what it cannot copy yet (pages a reader still needs) it copies the
//! next time.

use std::sync::Weak;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

use super::connections::ThreadConnections;

/// How often the WAL is checkpointed.
pub(crate) const INTERVAL: Duration = Duration::from_secs(1);

/// Starts the checkpointing thread for the file at `path`; it ends once
/// `alive` can no longer be upgraded (the store is gone).
pub(crate) fn start(path: &str, busy_timeout: Duration, alive: Weak<()>) -> std::io::Result<()> {
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
                if let Err(error) = checkpoint(&connections) {
                    tracing::warn!(%error, "a WAL checkpoint failed; the next one retries");
                }
            }
        })?;
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
