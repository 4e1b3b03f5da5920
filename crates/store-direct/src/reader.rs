//! Read-only queries on the calling thread.

use std::time::Duration;

use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement};

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
        self.query_all_built(DbBackend::Sqlite.build(select))
    }

    /// Every row an already built statement returns: for a hot query whose
    /// SQL text is built once and reused with new values.
    pub fn query_all_built(&self, statement: Statement) -> Result<Vec<QueryResult>, DirectError> {
        Ok(self.connections.with(|db| db.query_all_raw(statement))??)
    }
}
