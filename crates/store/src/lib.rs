//! The store, third stage of the line verify → append → fold → serve: the
//! append-only event log and the projection tables, behind sea-orm.
//!
//! Every query of the service lives here. Writes go through one
//! [`LogWriter`] task that commits concurrent deliveries together (group
//! commit) and lets the projection update itself inside the same
//! transaction through an [`AppendHook`].

pub mod entity;
mod error;
mod log_queries;
mod open;
mod writer;

pub use entity::event_log::Model as LogEntry;
pub use error::StoreError;
pub use log_queries::{LogFilter, TypeCount};
pub use open::{Store, StoreOptions};
pub use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
pub use writer::{AppendHook, AppendOutcome, LogWriter, NewEntry, NoHook, WriterOptions};
