//! The store's one error type.

use sea_orm::DbErr;

/// Why the store could not do what was asked. Every variant means "not
/// committed": the HTTP edge answers 503 so the sender retries.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed (locked, read-only, full, IO).
    #[error("the database could not complete the operation: {0}")]
    Database(#[from] DbErr),
    /// The migrations could not be applied (or their state not read).
    #[error("the database migrations could not be applied: {0}")]
    Migrations(#[source] migrations::DbErr),
    /// A database task on a blocking thread panicked or was cancelled.
    #[error("a database task on a blocking thread did not finish")]
    Interrupted,
    /// The database URL names neither a SQLite file nor a PostgreSQL
    /// database: each thread that reads or writes opens its own connection
    /// to it. (The message never repeats the URL, which may hold a
    /// password.)
    #[error(
        "the database URL must name a SQLite file (sqlite://PATH) or a PostgreSQL database (postgres://USER:PASSWORD@HOST:PORT/DATABASE); in-memory databases and other kinds are not supported"
    )]
    UnsupportedUrl,
    /// The folder of the SQLite file could not be created.
    #[error("cannot create the database folder {path}: {source}")]
    DatabaseFolder {
        /// The folder.
        path: String,
        /// The IO error.
        #[source]
        source: std::io::Error,
    },
    /// The log writer's or the WAL checkpointer's thread could not be
    /// started.
    #[error("a thread of the store could not be started: {0}")]
    WriterThread(String),
    /// The writer task has stopped (the service is shutting down).
    #[error("the log writer has stopped")]
    WriterClosed,
    /// A stored document could not be read back.
    #[error("a stored document is corrupt: {0}")]
    Corrupt(String),
}
