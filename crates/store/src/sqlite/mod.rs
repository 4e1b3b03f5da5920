//! What only the SQLite backend needs: which URLs name a SQLite file, and
//! the thread that checkpoints its WAL every second, so that no commit
//! does ([`checkpointer`]).
//!
//! Only SQLite files qualify ([`sqlite_file_path`]): every thread of the
//! store opens the same file again.

mod checkpointer;
mod url;

pub(crate) use checkpointer::checkpoint;
pub(crate) use checkpointer::start as start_checkpointer;
pub(crate) use url::create_folder_of;
pub use url::sqlite_file_path;
