//! The writers' connections and their exclusive transactions.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::UpdateStatement;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::sync::Mutex;

use super::Target;
use super::connections::ThreadConnections;

/// The per-connection settings a writer needs: durable commits (unless asked otherwise), statement journals in
/// memory, rare checkpoints and an optional size cap.
#[derive(Debug, Clone, Copy)]
pub struct WriterPragmas {
    /// How long to wait for another writer's lock.
    pub busy_timeout: Duration,
    /// The database's size cap in pages, if any.
    pub max_page_count: Option<u32>,
    /// Whether each commit waits for the disk (`synchronous = FULL`).
    /// Without it (`NORMAL`, in WAL mode) a commit's frames reach the disk
    /// with the next commit that does wait, or the next checkpoint: for
    /// rows nothing reads until such a commit (a rebuild's shadow rows,
    /// made current by the durable swap). Power loss may then lose those
    /// commits, never corrupt the database.
    pub sync_each_commit: bool,
}

impl WriterPragmas {
    /// The settings as SQLite pragmas.
    pub(crate) fn statements(&self) -> String {
        let mut pragmas = format!(
            "PRAGMA busy_timeout = {}; PRAGMA synchronous = {}; PRAGMA temp_store = MEMORY; \
             PRAGMA wal_autocheckpoint = 0;",
            self.busy_timeout.as_millis(),
            if self.sync_each_commit {
                "FULL"
            } else {
                "NORMAL"
            },
        );
        if let Some(pages) = self.max_page_count {
            pragmas.push_str(&format!(" PRAGMA max_page_count = {pages};"));
        }
        pragmas
    }
}

/// Whose turn it is to write: the writers of one process take turns on
/// this lock, first come first served, before they ask SQLite for its
/// write lock. SQLite itself makes a writer that finds the lock taken
/// sleep and retry (1, 2, 5, 10, … up to 100 ms between tries), so a
/// delivery's commit that arrived while a rebuild wrote could sleep long
/// after the rebuild's transaction ended; waiting here, it starts the
/// moment the transaction before it ends. SQLite's busy timeout is left
/// for writers in other processes (a `rebuild` or `import` command).
pub type WriteTurn = Arc<Mutex<()>>;

/// Writes to the database in transactions that exclude every other
/// writer ([`Target::begin_write`]), on the calling thread's own
/// connection (opened on first use).
#[derive(Debug)]
pub struct Writer {
    connections: ThreadConnections,
    begin: String,
    announce: Option<String>,
    rows_per_insert: usize,
    turn: WriteTurn,
}

impl Writer {
    /// A writer of `target` that takes `turn` for each transaction.
    pub fn new(target: &Target, pragmas: WriterPragmas, turn: WriteTurn) -> Self {
        Self {
            connections: ThreadConnections::new(target.clone(), target.writer_setup(&pragmas)),
            begin: target.begin_write(),
            announce: target.announce_appends(),
            rows_per_insert: target.rows_per_insert(),
            turn,
        }
    }

    /// Runs `work` in one exclusive transaction, in this writer's turn:
    /// committed when it returns `Ok`, rolled back when it (or the commit)
    /// fails. Call it from a thread that may block (not an async task).
    ///
    /// The transaction is plain `BEGIN …` / `COMMIT` / `ROLLBACK`
    /// statements rather than sea-orm's transaction object, whose drop
    /// panics when its rollback fails, as it does after SQLite has already
    /// rolled back by itself (a full database, an I/O error). The writer's
    /// thread must outlive any failed commit.
    pub fn transaction<T, E: From<DbErr>>(
        &self,
        work: impl FnOnce(&WriteTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        let run = |db: &DatabaseConnection| -> Result<T, E> {
            db.execute_unprepared(&self.begin)?;
            let txn = WriteTxn {
                db,
                announce: self.announce.as_deref(),
                rows_per_insert: self.rows_per_insert,
            };
            let committed = work(&txn).and_then(|value| {
                db.execute_unprepared("COMMIT")?;
                Ok(value)
            });
            if committed.is_err() {
                // Fails harmlessly when SQLite has rolled back already.
                let _ = db.execute_unprepared("ROLLBACK");
            }
            committed
        };
        let _turn = self.turn.blocking_lock();
        self.connections.with(run)?
    }

    /// This writer's connections, for statements outside a transaction
    /// (a SQLite checkpoint).
    pub(crate) fn connections(&self) -> &ThreadConnections {
        &self.connections
    }
}

/// Statements inside a [`Writer::transaction`].
pub struct WriteTxn<'a> {
    db: &'a DatabaseConnection,
    announce: Option<&'a str>,
    rows_per_insert: usize,
}

impl WriteTxn<'_> {
    /// The transaction's connection, for sea-orm's own queries.
    pub fn connection(&self) -> &DatabaseConnection {
        self.db
    }

    /// The backend the transaction runs on, for SQL built for it.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// How many rows one insert statement writes on this backend
    /// ([`Target::rows_per_insert`]).
    pub fn rows_per_insert(&self) -> usize {
        self.rows_per_insert
    }

    /// Tells the other processes on the database, once this transaction
    /// commits, that the log has new entries (nothing on a SQLite file).
    pub fn announce_appends(&self) -> Result<(), DbErr> {
        match self.announce {
            Some(statement) => self.db.execute_unprepared(statement).map(|_| ()),
            None => Ok(()),
        }
    }

    /// Runs an `UPDATE`.
    pub fn update(&self, update: &UpdateStatement) -> Result<(), DbErr> {
        self.execute(self.db.get_database_backend().build(update))
    }

    /// Runs a statement that returns no rows (an `INSERT`, an `UPDATE`)
    /// through sea-orm's query path, which keeps prepared statements
    /// (rusqlite's cache, 16 per connection; the PostgreSQL connection's
    /// own); sea-orm's `execute` would prepare the statement anew each
    /// time on SQLite. The query path says nothing
    /// of the rows changed, and no caller needs it.
    pub fn execute(&self, statement: Statement) -> Result<(), DbErr> {
        self.db.query_all_raw(statement)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
