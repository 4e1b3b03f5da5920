//! The store, second stage of the line verify → append → fold → serve: the
//! append-only event log and the projection tables.
//!
//! Every query of the service lives here, behind the methods of [`Store`]
//! and of the write transactions it hands out ([`ProjectionTxn`]): nothing
//! above the store sees a connection or a driver. The backend — a SQLite
//! file, or a PostgreSQL database that several replicas share — is chosen
//! from the URL when the store opens ([`Store::open`]); each thread that
//! reads or writes owns its connection to it ([`database`]), and the same
//! queries run on both (a PostgreSQL connection is a sea-orm proxy,
//! [`postgres`]). Appends go
//! through one [`LogWriter`] thread that commits concurrent deliveries
//! together (group commit) and lets the projection update itself inside the
//! same transaction through an [`AppendHook`].

mod database;
pub mod entity;
mod error;
mod history_queries;
mod lease_queries;
mod log_queries;
mod one_row;
mod open;
mod per_backend;
mod postgres;
mod projection_queries;
mod rejection_queries;
mod single_row;
mod sqlite;
mod writer;
mod writer_queries;

pub use entity::event_log::Model as LogEntry;
pub use error::StoreError;
pub use history_queries::KeyedEntry;
pub use lease_queries::{LeaseTaken, RebuildLease};
pub use log_queries::{
    ColumnsSuffice, LogFilter, NpnShare, RebuildRead, RebuildRow, RowContent, StoredColumns,
    TypeCount,
};
pub use open::{AppendWatch, Store, StoreOptions};
pub use postgres::{is_postgres_url, masked_url};
pub use projection_queries::{
    DELETE_CHUNK, ProducerRow, ProducerUpserts, ProjectionMeta, RebuildFigures,
};
pub use rejection_queries::RejectionCount;
pub use sqlite::sqlite_file_path;
pub use writer::{
    AppendHook, AppendOutcome, Appended, Commit, LogWriter, NewEntry, NoHook, WriterOptions,
};
pub use writer_queries::ProjectionTxn;
