//! Read-only queries on the calling thread.

use std::time::Duration;

use sea_orm::{DatabaseConnection, DbErr};

use super::connections::ThreadConnections;

/// Runs read-only queries against one SQLite file on the calling thread's
/// own connection (opened on first use, `query_only`).
#[derive(Debug)]
pub struct Reader {
    connections: ThreadConnections,
}

impl Reader {
    /// A reader of the SQLite file at `path`.
    pub fn new(path: &str, busy_timeout: Duration) -> Self {
        let pragmas = format!(
            "PRAGMA busy_timeout = {}; PRAGMA query_only = 1;",
            busy_timeout.as_millis()
        );
        Self {
            connections: ThreadConnections::new(path, pragmas),
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
