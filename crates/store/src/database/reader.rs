//! Read-only queries on the calling thread.

use std::time::Duration;

use sea_orm::{DatabaseConnection, DbErr};

use super::Target;
use super::connections::ThreadConnections;

/// Runs read-only queries against the database on the calling thread's
/// own connection (opened on first use, read-only).
#[derive(Debug)]
pub struct Reader {
    connections: ThreadConnections,
}

impl Reader {
    /// A reader of `target`; a SQLite reader waits up to `busy_timeout`
    /// for another process's lock.
    pub fn new(target: &Target, busy_timeout: Duration) -> Self {
        let setup = target.reader_setup(busy_timeout);
        Self {
            connections: ThreadConnections::new(target.clone(), setup),
        }
    }

    /// Runs `work` on this thread's read-only connection.
    pub fn with<T>(
        &self,
        work: impl FnOnce(&DatabaseConnection) -> Result<T, DbErr>,
    ) -> Result<T, DbErr> {
        self.connections.with(work)?
    }
}

#[cfg(test)]
mod tests;
