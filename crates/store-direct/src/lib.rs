//! Reads and the log's writes on the calling thread, through sea-orm's
//! synchronous flavour (rusqlite).
//!
//! The async store talks to SQLite through sqlx, whose driver runs each
//! connection on a thread of its own: every statement is a message to that
//! thread and a wake-up back, rows come back one message each, and returning
//! a connection to the pool costs another round trip (a ping). For work that
//! takes microseconds inside SQLite those hops were most of the cost: a
//! fifth of the server's CPU went to switching threads in the
//! `producer(npn)` bench, and the group commit spent about a third of its
//! time waiting on them.
//!
//! Here a sea-query statement runs on a connection owned by the calling
//! thread, so there is no hop at all:
//!
//! - [`DirectReader`]: read-only (`query_only`) connections for short
//!   lookups from async code (they block the calling worker for about as
//!   long as a hop would have taken) and for scans run on a blocking thread;
//! - [`DirectWriter`]: the connection of the log's single writer thread,
//!   with the same durability settings as the async pool.
//!
//! Only SQLite files qualify.

mod connections;
mod reader;
mod url;
mod writer;

pub use reader::DirectReader;
pub use sea_orm::{DbBackend, DbErr, QueryResult, Statement};
pub use url::sqlite_file_path;
pub use writer::{DirectTxn, DirectWriter, WriteTurn, WriterPragmas};

/// Why a direct read or write failed.
#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    /// SQLite refused or failed.
    #[error("the database could not complete the operation: {0}")]
    Database(#[from] DbErr),
}
