//! The SQLite backend's connections: each thread that reads or writes owns
//! its connection to the file, through sea-orm's synchronous flavour
//! (rusqlite), so a statement that takes microseconds inside SQLite is not
//! a message to a driver thread and a wake-up back.
//!
//! - [`Reader`]: read-only (`query_only`) connections, for short lookups
//!   from async code and for reads on the store's reading threads
//!   ([`Threads`]);
//! - [`Writer`]: connections that write in `BEGIN IMMEDIATE` transactions,
//!   taking turns on the process's [`WriteTurn`] (the log writer's thread,
//!   a rebuild's writes);
//! - a thread that checkpoints the WAL every second, so that no commit
//!   does ([`checkpointer`]).
//!
//! Only SQLite files qualify ([`sqlite_file_path`]): every thread opens
//! the same file again.

mod checkpointer;
mod connections;
mod reader;
mod threads;
mod url;
mod writer;

pub(crate) use checkpointer::start as start_checkpointer;
pub(crate) use reader::Reader;
pub(crate) use threads::Threads;
pub(crate) use url::create_folder_of;
pub use url::sqlite_file_path;
pub(crate) use writer::{WriteTurn, WriteTxn, Writer, WriterPragmas};
