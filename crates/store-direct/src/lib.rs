//! Reads on the calling thread, for the store's hottest lookups.
//!
//! The async store reads through sqlx, whose SQLite driver runs each
//! connection on a thread of its own: every query is a message to that
//! thread and a wake-up back, and returning the connection to the pool
//! costs another round trip (a ping). For a point lookup that takes a few
//! microseconds inside SQLite, those hops were most of the cost: a fifth of
//! the server's CPU went to switching threads in the `producer(npn)` bench.
//!
//! A [`DirectReader`] runs a sea-query `SELECT` through sea-orm's
//! synchronous flavour (rusqlite) on a connection owned by the calling
//! thread, so there is no hop at all. It is meant for short indexed
//! lookups called from async code: they block the calling worker for
//! about as long as a hop would have taken. Scans stay on the async pool.
//!
//! Only SQLite files qualify (a PostgreSQL deployment keeps using the
//! pool), and the connections are read-only (`query_only`), so the single
//! writer stays the only one that writes.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

pub use sea_orm::{DbErr, QueryResult};

mod url;

pub use url::sqlite_file_path;

/// How many databases one thread keeps a connection to. The service opens
/// one; tests open many, one after another, on long-lived threads.
const CONNECTIONS_PER_THREAD: usize = 4;

/// Why a direct read failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectReadError {
    /// SQLite refused or failed.
    #[error("the database could not complete the read: {0}")]
    Database(#[from] DbErr),
}

/// Runs read-only queries against one SQLite file on the calling thread's
/// own connection (opened on first use).
#[derive(Debug)]
pub struct DirectReader {
    /// Tells this reader's connections apart from other readers' on the
    /// same thread.
    id: u64,
    url: String,
    busy_timeout: Duration,
}

thread_local! {
    /// This thread's connections, by reader id, oldest first. A sea-orm-sync
    /// connection is neither `Send` nor `Sync`, so each thread owns its own.
    static CONNECTIONS: RefCell<Vec<(u64, DatabaseConnection)>> = const { RefCell::new(Vec::new()) };
}

impl DirectReader {
    /// A reader for the database at `url`, or `None` when it is not a
    /// SQLite file (in memory, or another database).
    pub fn for_url(url: &str, busy_timeout: Duration) -> Option<Self> {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let path = sqlite_file_path(url)?;
        Some(Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            url: format!("sqlite:{path}?mode=rw"),
            busy_timeout,
        })
    }

    /// Every row `select` returns.
    pub fn query_all(&self, select: &SelectStatement) -> Result<Vec<QueryResult>, DirectReadError> {
        let statement = DbBackend::Sqlite.build(select);
        self.with_connection(|db| db.query_all_raw(statement))
    }

    fn with_connection<T>(
        &self,
        read: impl FnOnce(&DatabaseConnection) -> Result<T, DbErr>,
    ) -> Result<T, DirectReadError> {
        CONNECTIONS.with(|connections| {
            let mut connections = connections.borrow_mut();
            let index = match connections.iter().position(|(id, _)| *id == self.id) {
                Some(index) => index,
                None => {
                    if connections.len() == CONNECTIONS_PER_THREAD {
                        connections.remove(0);
                    }
                    connections.push((self.id, self.connect()?));
                    connections.len() - 1
                }
            };
            Ok(read(&connections[index].1)?)
        })
    }

    fn connect(&self) -> Result<DatabaseConnection, DbErr> {
        let db = Database::connect(ConnectOptions::new(self.url.clone()))?;
        db.execute_unprepared(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA query_only = 1;",
            self.busy_timeout.as_millis()
        ))?;
        Ok(db)
    }
}
