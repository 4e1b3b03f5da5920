//! The PostgreSQL backend's connections: the same sea-orm queries as on
//! SQLite, sent to PostgreSQL.
//!
//! The store's queries are written once, against sea-orm's synchronous
//! flavour, and each thread that reads or writes owns its connection. For
//! PostgreSQL that connection is a sea-orm *proxy* connection
//! ([`PostgresConnection`]) whose statements — built by sea-query for
//! PostgreSQL, `$1` placeholders and all — run on a `tokio-postgres` client.
//! The clients' sockets are driven by one runtime thread of their own
//! ([`io`]), and a caller waits for its answer with a plain blocking wait,
//! so a query may be sent from any thread, an async worker or a rebuild's
//! runtime included, without entering a second runtime.

mod connection;
mod io;
mod listen;
mod rows;
mod url;

pub(crate) use connection::{PostgresConnection, PostgresSettings};
pub(crate) use listen::{APPENDS_CHANNEL, spawn_listener};
pub use url::{is_postgres_url, masked_url};
