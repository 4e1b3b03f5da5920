//! Each thread's own connections, by the id of the reader or writer that
//! opened them.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr};

use super::Target;
use crate::postgres::PostgresConnection;

/// How many databases one thread keeps a connection to. The service opens
/// one reader and one writer; tests open many, one after another, on
/// long-lived threads.
const CONNECTIONS_PER_THREAD: usize = 4;

thread_local! {
    /// This thread's connections, oldest first. A sea-orm-sync connection is
    /// neither `Send` nor `Sync`, so each thread owns its own.
    static CONNECTIONS: RefCell<Vec<(u64, DatabaseConnection)>> = const { RefCell::new(Vec::new()) };
}

/// How to open one kind of connection to one database.
#[derive(Debug)]
pub(crate) struct ThreadConnections {
    /// Tells these connections apart from others on the same thread.
    id: u64,
    target: Target,
    /// Run once on each new connection.
    setup: String,
}

impl ThreadConnections {
    /// Connections to `target`, set up by `setup`.
    pub(crate) fn new(target: Target, setup: String) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Self {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            target,
            setup,
        }
    }

    /// Runs `work` on this thread's connection, opening it first if needed;
    /// fails only when the connection cannot be opened.
    pub(crate) fn with<R>(&self, work: impl FnOnce(&DatabaseConnection) -> R) -> Result<R, DbErr> {
        CONNECTIONS.with(|connections| {
            let mut connections = connections.borrow_mut();
            let kept = connections.iter().position(|(id, _)| *id == self.id);
            // A connection the server closed (a restart, a failover) is
            // dropped, and the next statement gets a new one. (A SQLite
            // file's connection never goes away; its ping is a query.)
            let kept = kept.filter(|&index| {
                let alive = !self.target.is_server() || connections[index].1.ping().is_ok();
                if !alive {
                    connections.remove(index);
                }
                alive
            });
            let index = match kept {
                Some(index) => index,
                None => {
                    if connections.len() == CONNECTIONS_PER_THREAD {
                        connections.remove(0);
                    }
                    connections.push((self.id, self.connect()?));
                    connections.len() - 1
                }
            };
            Ok(work(&connections[index].1))
        })
    }

    fn connect(&self) -> Result<DatabaseConnection, DbErr> {
        match &self.target {
            Target::SqliteFile(path) => {
                // `rw`: never create the file; the store has opened and migrated it.
                let db = Database::connect(ConnectOptions::new(format!("sqlite:{path}?mode=rw")))?;
                db.execute_unprepared(&self.setup)?;
                Ok(db)
            }
            Target::Postgres(settings) => PostgresConnection::open(settings, &self.setup),
        }
    }
}
