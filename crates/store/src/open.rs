//! Opening the store: the database URL is read once, the migrations are
//! applied, and from then on every read and write runs on a connection of
//! the calling thread's own ([`crate::database`]).

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{DatabaseConnection, DbErr};

use crate::database::{Reader, Target, Threads, WriteTurn, Writer, WriterPragmas};
use crate::error::StoreError;
use crate::postgres::{PostgresSettings, is_postgres_url};
use crate::sqlite::{create_folder_of, sqlite_file_path, start_checkpointer};

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The database URL: `sqlite://data/producer-projector.db`, or
    /// `postgres://user:password@host:port/database`.
    pub url: String,
    /// How long SQLite waits for another process's lock before answering
    /// "busy".
    pub busy_timeout: Duration,
    /// How many threads run the reads of async callers, at once (each
    /// keeps its connection and page cache, so this bounds both).
    pub read_connections: u32,
    /// Caps the database at this many pages (SQLite `max_page_count`), so a
    /// size budget is enforced as "database full" answers rather than a
    /// full disk. `None`: no cap.
    pub max_page_count: Option<u32>,
    /// PostgreSQL: how long opening a connection may take.
    pub connect_timeout: Duration,
    /// PostgreSQL: the longest one statement may run (`statement_timeout`).
    pub statement_timeout: Duration,
    /// PostgreSQL: the longest one statement may wait for a lock
    /// (`lock_timeout`), the write lock that orders appends included.
    pub lock_timeout: Duration,
}

impl StoreOptions {
    /// Options with the service defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            busy_timeout: Duration::from_secs(2),
            read_connections: 4,
            max_page_count: None,
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(5),
        }
    }

    /// The database the URL names, or why it names none the store opens.
    fn target(&self) -> Result<Target, StoreError> {
        if is_postgres_url(&self.url) {
            return Ok(Target::Postgres(PostgresSettings {
                url: self.url.clone(),
                connect_timeout: self.connect_timeout,
                statement_timeout: self.statement_timeout,
                lock_timeout: self.lock_timeout,
            }));
        }
        let path = sqlite_file_path(&self.url).ok_or(StoreError::UnsupportedUrl)?;
        Ok(Target::SqliteFile(path.to_owned()))
    }
}

/// What [`Store::watch_appends`] returns: the listening stops when it is
/// dropped.
#[derive(Debug)]
pub struct AppendWatch {
    listener: Option<tokio::task::AbortHandle>,
}

impl Drop for AppendWatch {
    fn drop(&mut self) {
        if let Some(listener) = &self.listener {
            listener.abort();
        }
    }
}

/// The opened database: read-only connections for queries, two writers
/// taking turns on one lock (one whose commits wait for the disk: the log
/// writer's, a rebuild's swap; one whose commits do not: a rebuild's
/// shadow rows, made durable by the swap), and for a SQLite file a thread
/// that checkpoints the WAL. Readers never block writers (SQLite in WAL
/// mode; PostgreSQL's snapshots).
#[derive(Clone, Debug)]
pub struct Store {
    reader: Arc<Reader>,
    /// The threads that run reads for async callers.
    reading: Threads,
    /// The thread that runs write transactions for async callers.
    writing: Threads,
    writer: Arc<Writer>,
    unsynced_writer: Arc<Writer>,
    /// The database.
    target: Target,
    /// Lives as long as a clone of the store: a SQLite WAL checkpointer's
    /// thread ends when it is gone.
    _alive: Arc<()>,
}

impl Store {
    /// Opens (creating a SQLite file if missing) and migrates the
    /// database. The URL must name a SQLite file or a PostgreSQL database:
    /// each thread that reads or writes opens its own connection to it, so
    /// an in-memory SQLite database (or any other kind) is refused here,
    /// once.
    pub async fn open(options: &StoreOptions) -> Result<Self, StoreError> {
        Self::migrate(options).await?;
        let target = options.target()?;
        let turn = WriteTurn::default();
        let writer = |sync_each_commit| {
            let pragmas = WriterPragmas {
                busy_timeout: options.busy_timeout,
                max_page_count: options.max_page_count,
                sync_each_commit,
            };
            Arc::new(Writer::new(&target, pragmas, turn.clone()))
        };
        let threads = |name, count| {
            Threads::start(name, count).map_err(|error| StoreError::WriterThread(error.to_string()))
        };
        let alive = Arc::new(());
        if let Target::SqliteFile(path) = &target {
            start_checkpointer(
                path,
                options.busy_timeout,
                turn.clone(),
                Arc::downgrade(&alive),
            )
            .map_err(|error| StoreError::WriterThread(error.to_string()))?;
        }
        Ok(Self {
            _alive: alive,
            reader: Arc::new(Reader::new(&target, options.busy_timeout)),
            reading: threads("store-read", options.read_connections as usize)?,
            writing: threads("store-write", 1)?,
            writer: writer(true),
            unsynced_writer: writer(false),
            target,
        })
    }

    /// Applies pending migrations, creating a SQLite file (and its folder)
    /// if it is missing; returns how many there were. On PostgreSQL,
    /// replicas migrating at once apply each migration once.
    pub async fn migrate(options: &StoreOptions) -> Result<usize, StoreError> {
        let applied = match options.target()? {
            Target::SqliteFile(path) => {
                create_folder_of(&path)?;
                migrations::apply_to_sqlite(&options.url, options.busy_timeout).await
            }
            Target::Postgres(_) => {
                migrations::apply_to_postgres(&options.url, options.connect_timeout).await
            }
        };
        applied.map_err(StoreError::Migrations)
    }

    /// The writer whose commits wait for the disk.
    pub(crate) fn writer(&self) -> Arc<Writer> {
        self.writer.clone()
    }

    /// The writer whose commits do not wait for the disk (see
    /// [`crate::Commit::Unsynced`]).
    pub(crate) fn unsynced_writer(&self) -> Arc<Writer> {
        self.unsynced_writer.clone()
    }

    /// Runs `work` on the read-only connection of one of the reading
    /// threads: for reads that walk many rows. At most `read_connections`
    /// run at once, the others wait their turn; a caller that stops waiting
    /// does not let another start before this one ends.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&DatabaseConnection) -> Result<T, DbErr> + Send + 'static,
    ) -> Result<T, StoreError> {
        let reader = self.reader.clone();
        match self.reading.run(move || reader.with(work)).await {
            Some(result) => result.map_err(StoreError::from),
            None => Err(StoreError::Interrupted),
        }
    }

    /// Runs `work` with `writer` on the writing thread, which keeps its
    /// connections: for write transactions of async callers (the log
    /// writer's batches have a thread of their own).
    pub(crate) async fn on_writer<T, E>(
        &self,
        writer: Arc<Writer>,
        work: impl FnOnce(&Writer) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        match self.writing.run(move || work(&writer)).await {
            Some(result) => result,
            None => Err(E::from(StoreError::Interrupted)),
        }
    }

    /// Runs `work` on the calling thread's read-only connection: for point
    /// lookups from async code, which block the calling worker for about as
    /// long as a hop to another thread would take, and for threads that
    /// are there to block on their reads.
    pub(crate) fn read_here<T>(
        &self,
        work: impl FnOnce(&DatabaseConnection) -> Result<T, DbErr>,
    ) -> Result<T, StoreError> {
        Ok(self.reader.with(work)?)
    }

    /// Copies the WAL's pages back into the SQLite database file now,
    /// without waiting for readers or the writer (`PASSIVE`), as the
    /// checkpointer does every second; returns the WAL's frames and how
    /// many of them are now in the database file. Once every frame is
    /// copied, new readers read the database file alone instead of
    /// searching the WAL's index for each page: worth it at once after a
    /// rebuild, which writes a whole generation into the WAL.
    ///
    /// PostgreSQL checkpoints by itself; there it answers `(0, 0)`.
    pub async fn checkpoint(&self) -> Result<(i64, i64), StoreError> {
        if self.target.is_server() {
            return Ok((0, 0));
        }
        let writer = self.unsynced_writer();
        self.on_writer(writer, |writer| {
            Ok(crate::sqlite::checkpoint(writer.connections())?)
        })
        .await
    }

    /// Wakes `wake` whenever another process on the database commits
    /// appends to the log, for as long as the returned watch is kept; on
    /// PostgreSQL also after its listening connection was lost and has
    /// connected again (a notification sent meanwhile is lost, so whoever
    /// is woken must read the log by position from where it was). A SQLite
    /// file is served by one process: it never wakes (appends of a command
    /// in another process, an `import`, are found by reading the log).
    pub fn watch_appends(&self, wake: Arc<Notify>) -> Result<AppendWatch, StoreError> {
        let listener = match &self.target {
            Target::SqliteFile(_) => None,
            Target::Postgres(settings) => {
                Some(crate::postgres::spawn_listener(settings.clone(), wake)?)
            }
        };
        Ok(AppendWatch { listener })
    }

    /// Whether the database answers and every migration is applied.
    pub async fn check_ready(&self) -> Result<bool, StoreError> {
        let applied = Query::select()
            .column(Alias::new("version"))
            .from(Alias::new("seaql_migrations"))
            .and_where(Expr::col(Alias::new("version")).is_in(migrations::names()))
            .to_owned();
        let rows = self
            .read(move |db| {
                use sea_orm::ConnectionTrait;
                db.query_all_raw(db.get_database_backend().build(&applied))
            })
            .await?;
        Ok(rows.len() == migrations::names().len())
    }
}
