//! The log writer's connection and its immediate transactions.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::sea_query::{SelectStatement, UpdateStatement};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, QueryResult, Statement};

use tokio::sync::Mutex;

use crate::DirectError;
use crate::connections::ThreadConnections;
use crate::url::sqlite_file_path;

/// The per-connection settings the writer needs, the same as the async
/// pool's: durable commits (unless asked otherwise), statement journals in
/// memory, rare checkpoints and an optional size cap.
#[derive(Debug, Clone, Copy)]
pub struct WriterPragmas {
    /// How long to wait for another writer's lock.
    pub busy_timeout: Duration,
    /// WAL pages between automatic checkpoints.
    pub wal_autocheckpoint: u32,
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
    fn statements(&self) -> String {
        let mut pragmas = format!(
            "PRAGMA busy_timeout = {}; PRAGMA synchronous = {}; PRAGMA temp_store = MEMORY; \
             PRAGMA wal_autocheckpoint = {};",
            self.busy_timeout.as_millis(),
            if self.sync_each_commit {
                "FULL"
            } else {
                "NORMAL"
            },
            self.wal_autocheckpoint
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

/// Writes to one SQLite file in `BEGIN IMMEDIATE` transactions on the
/// calling thread's own connection (opened on first use).
#[derive(Debug)]
pub struct DirectWriter {
    connections: ThreadConnections,
    turn: WriteTurn,
}

impl DirectWriter {
    /// A writer for the database at `url` that takes `turn` for each
    /// transaction, or `None` when the URL is not a SQLite file.
    pub fn for_url(url: &str, pragmas: WriterPragmas, turn: WriteTurn) -> Option<Self> {
        Some(Self {
            connections: ThreadConnections::new(sqlite_file_path(url)?, pragmas.statements()),
            turn,
        })
    }

    /// Runs `work` in one immediate transaction, in this writer's turn:
    /// committed when it returns `Ok`, rolled back when it (or the commit)
    /// fails. Call it from a thread that may block (not an async task).
    ///
    /// The transaction is plain `BEGIN IMMEDIATE` / `COMMIT` / `ROLLBACK`
    /// statements rather than sea-orm's transaction object, whose drop
    /// panics when its rollback fails, as it does after SQLite has already
    /// rolled back by itself (a full database, an I/O error). The writer's
    /// thread must outlive any failed commit.
    pub fn transaction<T, E: From<DirectError>>(
        &self,
        work: impl FnOnce(&DirectTxn) -> Result<T, E>,
    ) -> Result<T, E> {
        let run = |db: &DatabaseConnection| -> Result<T, E> {
            db.execute_unprepared("BEGIN IMMEDIATE")
                .map_err(DirectError::from)?;
            let committed = work(&DirectTxn { db }).and_then(|value| {
                db.execute_unprepared("COMMIT").map_err(DirectError::from)?;
                Ok(value)
            });
            if committed.is_err() {
                // Fails harmlessly when SQLite has rolled back already.
                let _ = db.execute_unprepared("ROLLBACK");
            }
            committed
        };
        let _turn = self.turn.blocking_lock();
        self.connections.with(run).map_err(DirectError::from)?
    }
}

/// Statements inside a [`DirectWriter::transaction`].
pub struct DirectTxn<'a> {
    db: &'a DatabaseConnection,
}

impl DirectTxn<'_> {
    /// Every row `select` returns.
    pub fn query_all(&self, select: &SelectStatement) -> Result<Vec<QueryResult>, DirectError> {
        Ok(self.db.query_all_raw(DbBackend::Sqlite.build(select))?)
    }

    /// Runs an `UPDATE`.
    pub fn update(&self, update: &UpdateStatement) -> Result<(), DirectError> {
        self.execute(DbBackend::Sqlite.build(update))
    }

    /// Runs a statement that returns no rows (an `INSERT`, an `UPDATE`)
    /// through sea-orm's query path, which keeps prepared statements
    /// (rusqlite's cache, 16 per connection); sea-orm's `execute` would
    /// prepare the statement anew each time. The query path says nothing
    /// of the rows changed, and no caller needs it.
    pub fn execute(&self, statement: Statement) -> Result<(), DirectError> {
        self.db.query_all_raw(statement)?;
        Ok(())
    }
}
