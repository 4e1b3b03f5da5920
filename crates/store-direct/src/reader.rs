//! Read-only queries on the calling thread.

use std::time::Duration;

use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult};

use crate::DirectError;
use crate::connections::ThreadConnections;
use crate::url::sqlite_file_path;

/// Runs read-only queries against one SQLite file on the calling thread's
/// own connection (opened on first use, `query_only`).
#[derive(Debug)]
pub struct DirectReader {
    connections: ThreadConnections,
}

impl DirectReader {
    /// A reader for the database at `url`, or `None` when it is not a
    /// SQLite file (in memory, or another database).
    pub fn for_url(url: &str, busy_timeout: Duration) -> Option<Self> {
        let pragmas = format!(
            "PRAGMA busy_timeout = {}; PRAGMA query_only = 1;",
            busy_timeout.as_millis()
        );
        Some(Self {
            connections: ThreadConnections::new(sqlite_file_path(url)?, pragmas),
        })
    }

    /// Every row `select` returns.
    pub fn query_all(&self, select: &SelectStatement) -> Result<Vec<QueryResult>, DirectError> {
        let statement = DbBackend::Sqlite.build(select);
        Ok(self.connections.with(|db| db.query_all_raw(statement))??)
    }
}
