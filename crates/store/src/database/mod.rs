//! The connections the store's threads own, to either backend.
//!
//! - [`Reader`]: read-only connections, for short lookups from async code
//!   and for reads on the store's reading threads ([`Threads`]);
//! - [`Writer`]: connections that write in transactions that exclude every
//!   other writer of the database until they end, taking turns on the
//!   process's [`WriteTurn`] first (the log writer's thread, a rebuild's
//!   writes).
//!
//! What differs between the backends is said once, here, by [`Target`]:
//! how a connection is opened and set up, and how a write transaction
//! begins. Everything else — the queries, the transactions' work — is the
//! same sea-orm code on both.

mod connections;
mod reader;
mod threads;
mod writer;

use std::time::Duration;

pub(crate) use connections::ThreadConnections;
pub(crate) use reader::Reader;
pub(crate) use threads::Threads;
pub(crate) use writer::{WriteTurn, WriteTxn, Writer, WriterPragmas};

use crate::postgres::PostgresSettings;

/// The key of the transaction-level advisory lock every write transaction
/// on PostgreSQL takes first and holds until it commits or rolls back
/// ("plog" in ASCII). It does for the replicas sharing one database what
/// SQLite's `BEGIN IMMEDIATE` does for the processes sharing one file:
/// one writer at a time, so that the log's next position is the head plus
/// one, assigned in commit order, and a rolled-back append leaves no hole.
pub(crate) const POSTGRES_WRITE_LOCK: i64 = 0x706C_6F67;

/// The database every thread of a store connects to.
#[derive(Debug, Clone)]
pub(crate) enum Target {
    /// A SQLite file, by path; every connection opens it again.
    SqliteFile(String),
    /// A PostgreSQL database.
    Postgres(PostgresSettings),
}

impl Target {
    /// Whether the database is a server, whose connections can be closed
    /// under the store's feet.
    pub(crate) fn is_server(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// The statements that begin a write transaction: from the first one
    /// on, no other writer of the database commits until this one ends.
    pub(crate) fn begin_write(&self) -> String {
        match self {
            Self::SqliteFile(_) => "BEGIN IMMEDIATE".to_owned(),
            Self::Postgres(_) => {
                format!("BEGIN; SELECT pg_advisory_xact_lock({POSTGRES_WRITE_LOCK})")
            }
        }
    }

    /// How many rows one insert statement of a batch writes: one on
    /// SQLite, where a statement is a function call and a one-row
    /// statement needs no statement journal (see `one_row.rs`); many on
    /// PostgreSQL, where each statement is a round trip to the server
    /// made while the write lock is held (12 columns × 1,000 rows stays
    /// under its 65,535 parameters).
    pub(crate) fn rows_per_insert(&self) -> usize {
        match self {
            Self::SqliteFile(_) => 1,
            Self::Postgres(_) => 1_000,
        }
    }

    /// The statement a write transaction that appended to the log runs to
    /// tell the other processes on the database, once it commits (`None`:
    /// none can append, a SQLite file being served by one process).
    pub(crate) fn announce_appends(&self) -> Option<String> {
        match self {
            Self::SqliteFile(_) => None,
            Self::Postgres(_) => Some(format!("NOTIFY {}", crate::postgres::APPENDS_CHANNEL)),
        }
    }

    /// The set-up of a read-only connection.
    pub(crate) fn reader_setup(&self, busy_timeout: Duration) -> String {
        match self {
            Self::SqliteFile(_) => format!(
                "PRAGMA busy_timeout = {}; PRAGMA query_only = 1;",
                busy_timeout.as_millis()
            ),
            Self::Postgres(settings) => format!(
                "{} SET default_transaction_read_only = on;",
                settings.session_setup()
            ),
        }
    }

    /// The set-up of a writer's connection.
    pub(crate) fn writer_setup(&self, pragmas: &WriterPragmas) -> String {
        match self {
            Self::SqliteFile(_) => pragmas.statements(),
            Self::Postgres(settings) => format!(
                "{} SET synchronous_commit = {};",
                settings.session_setup(),
                if pragmas.sync_each_commit {
                    "on"
                } else {
                    "off"
                }
            ),
        }
    }
}
