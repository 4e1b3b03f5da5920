//! Opening the database: SQLite options set explicitly, two pools sized on
//! purpose, migrations applied.

use std::sync::Arc;
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
};

use sea_orm::sea_query::SelectStatement;
use store_direct::{DirectError, DirectReader, DirectWriter, WriteTurn, WriterPragmas};
use tokio::sync::Semaphore;

use crate::error::StoreError;

/// WAL pages between automatic checkpoints (SQLite's default is 1,000).
///
/// Ingest A/B against 10,000: 18,534-19,303/s with p99 21.8-22.0 ms, against
/// 19,866-20,478/s with p99 6.1-6.6 ms: fewer deliveries wait behind a
/// checkpoint, though the rare one that does waits longer (max 47-50 ms
/// against 27-29 ms). The WAL file grows to ~160 MiB; a rebuild
/// checkpoints at its end ([`Store::checkpoint`]).
const WAL_AUTOCHECKPOINT_PAGES: u32 = 40_000;

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// A sea-orm database URL, e.g. `sqlite://data/producer-projector.db`.
    pub url: String,
    /// How long SQLite waits for a lock before answering "busy".
    pub busy_timeout: Duration,
    /// Connections for queries (GraphQL, checks); writes have their own.
    pub read_connections: u32,
    /// Caps the database at this many pages (SQLite `max_page_count`), so a
    /// size budget is enforced as "database full" answers rather than a
    /// full disk. `None`: no cap.
    pub max_page_count: Option<u32>,
}

impl StoreOptions {
    /// Options with the service defaults for `url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            busy_timeout: Duration::from_secs(2),
            read_connections: 4,
            max_page_count: None,
        }
    }
}

/// The opened SQLite file: a pool for reads, one pooled connection for the
/// occasional writes (migrations, old generations, refusal counts), and
/// the direct paths: a
/// [`DirectReader`] for the hottest reads, a [`DirectWriter`] for the log
/// writer's thread and a rebuild's final swap, and one whose commits do not
/// wait for the disk for a rebuild's shadow rows. With SQLite in WAL mode
/// readers never block writers; writers take turns on SQLite's write lock.
#[derive(Clone, Debug)]
pub struct Store {
    read: DatabaseConnection,
    write: DatabaseConnection,
    direct: DirectReads,
    direct_writer: Arc<DirectWriter>,
    unsynced_writer: Arc<DirectWriter>,
}

/// The direct path and a bound on its blocking reads: each blocking thread
/// that reads keeps a connection (and its page cache), so only as many
/// run at once as the pool has connections.
#[derive(Clone, Debug)]
struct DirectReads {
    reader: Arc<DirectReader>,
    blocking: Arc<Semaphore>,
}

impl Store {
    /// Opens (creating if missing) and migrates the database. The URL
    /// must name a SQLite file: the log writer, a rebuild's readers and the
    /// hot reads each open a connection of their own to it, so an
    /// in-memory database (or any other kind) is refused here, once.
    pub async fn open(options: &StoreOptions) -> Result<Self, StoreError> {
        let reader = DirectReader::for_url(&options.url, options.busy_timeout)
            .ok_or(StoreError::NotAFile)?;
        let write = connect(options, 1).await?;
        Migrator::up(&write, None).await?;
        let read = connect(options, options.read_connections.max(1)).await?;
        let direct = DirectReads {
            reader: Arc::new(reader),
            blocking: Arc::new(Semaphore::new(options.read_connections.max(1) as usize)),
        };
        let turn = WriteTurn::default();
        let writer = |sync_each_commit| {
            let pragmas = WriterPragmas {
                busy_timeout: options.busy_timeout,
                wal_autocheckpoint: WAL_AUTOCHECKPOINT_PAGES,
                max_page_count: options.max_page_count,
                sync_each_commit,
            };
            DirectWriter::for_url(&options.url, pragmas, turn.clone())
                .map(Arc::new)
                .ok_or(StoreError::NotAFile)
        };
        Ok(Self {
            read,
            write,
            direct,
            direct_writer: writer(true)?,
            unsynced_writer: writer(false)?,
        })
    }

    /// Applies pending migrations without opening the read pool.
    pub async fn migrate(options: &StoreOptions) -> Result<usize, StoreError> {
        let write = connect(options, 1).await?;
        let pending = Migrator::get_pending_migrations(&write).await?.len();
        Migrator::up(&write, None).await?;
        Ok(pending)
    }

    /// The pool for queries.
    pub fn reader(&self) -> &DatabaseConnection {
        &self.read
    }

    /// Point lookups on the calling thread's own connection.
    pub(crate) fn direct_reader(&self) -> &DirectReader {
        &self.direct.reader
    }

    /// The log writer's connection settings.
    pub(crate) fn direct_writer(&self) -> Arc<DirectWriter> {
        self.direct_writer.clone()
    }

    /// The writer whose commits do not wait for the disk (see
    /// [`crate::Commit::Unsynced`]).
    pub(crate) fn unsynced_writer(&self) -> Arc<DirectWriter> {
        self.unsynced_writer.clone()
    }

    /// Runs a `SELECT` of many rows on a blocking thread's own connection
    /// and converts each row with `row`.
    pub(crate) async fn direct_rows<T: Send + 'static>(
        &self,
        select: SelectStatement,
        row: fn(&store_direct::QueryResult) -> Result<T, store_direct::DbErr>,
    ) -> Result<Vec<T>, StoreError> {
        let DirectReads { reader, blocking } = self.direct.clone();
        let Ok(permit) = blocking.acquire_owned().await else {
            return Err(StoreError::Interrupted);
        };
        // The permit moves with the read, so a caller that stops waiting
        // does not let another read start before this one ends.
        let read = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            read_rows(&reader, &select, row)
        });
        match read.await {
            Ok(rows) => rows.map_err(StoreError::from),
            Err(_) => Err(StoreError::Interrupted),
        }
    }

    /// [`Store::direct_rows`] on the calling thread's own connection, for
    /// a thread that is there to block on its reads.
    pub(crate) fn direct_rows_here<T>(
        &self,
        select: &SelectStatement,
        row: fn(&store_direct::QueryResult) -> Result<T, store_direct::DbErr>,
    ) -> Result<Vec<T>, StoreError> {
        read_rows(self.direct_reader(), select, row).map_err(StoreError::from)
    }

    /// The pooled connection for writes outside the log writer: migrations,
    /// a rebuild's shadow rows, deleting old generations, refusal counts.
    pub fn writer_connection(&self) -> &DatabaseConnection {
        &self.write
    }

    /// Copies the WAL's pages back into the SQLite database file, without
    /// waiting for readers or the writer (`PASSIVE`); returns the WAL's
    /// frames and how many of them are now in the database file (`None`
    /// when the database is not SQLite). Once every frame is copied, new
    /// readers read the database file alone instead of searching the WAL's
    /// index for each page: worth it after a rebuild, which writes a whole
    /// generation into the WAL.
    pub async fn checkpoint(&self) -> Result<Option<(i64, i64)>, StoreError> {
        if self.write.get_database_backend() != DbBackend::Sqlite {
            return Ok(None);
        }
        let statement = Statement::from_string(DbBackend::Sqlite, "PRAGMA wal_checkpoint(PASSIVE)");
        let Some(row) = self.write.query_one_raw(statement).await? else {
            return Ok(None);
        };
        Ok(Some((row.try_get_by_index(1)?, row.try_get_by_index(2)?)))
    }

    /// Whether the database answers and every migration is applied.
    pub async fn check_ready(&self) -> Result<bool, StoreError> {
        self.read.execute_unprepared("SELECT 1").await?;
        Ok(Migrator::get_pending_migrations(&self.read)
            .await?
            .is_empty())
    }
}

async fn connect(
    options: &StoreOptions,
    connections: u32,
) -> Result<DatabaseConnection, StoreError> {
    let busy_timeout = options.busy_timeout;
    let max_page_count = options.max_page_count;
    let mut connect = ConnectOptions::new(options.url.clone());
    connect
        .max_connections(connections)
        .min_connections(1)
        .sqlx_logging(false)
        // A pooled SQLite connection is a file handle, not a socket that can
        // go stale; pinging it on every acquire cost a round trip to its
        // thread per transaction (~0.6 ms of every group commit).
        .test_before_acquire_if_idle_for(Duration::from_secs(60))
        .map_sqlx_sqlite_opts(move |sqlite| {
            let sqlite = sqlite
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(busy_timeout);
            // Checkpoint every ~160 MiB of WAL instead of every 4 MiB: a
            // checkpoint copies pages back into the database file on the
            // committing connection, and pages hit by many commits are
            // copied once instead of many times.
            let sqlite = sqlite.pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
            // Statement journals (kept so a multi-row statement can be undone
            // alone) go to memory instead of a temporary file: writing them
            // was a sixth of the writer's time.
            let sqlite = sqlite.pragma("temp_store", "memory");
            match max_page_count {
                Some(pages) => sqlite.pragma("max_page_count", pages.to_string()),
                None => sqlite,
            }
        });
    Ok(Database::connect(connect).await?)
}

/// Runs a `SELECT` on the calling thread's direct connection and converts
/// each row with `row`, into a vector sized once.
fn read_rows<T>(
    reader: &DirectReader,
    select: &SelectStatement,
    row: fn(&store_direct::QueryResult) -> Result<T, store_direct::DbErr>,
) -> Result<Vec<T>, DirectError> {
    let rows = reader.query_all(select)?;
    let mut converted = Vec::with_capacity(rows.len());
    for result in &rows {
        converted.push(row(result)?);
    }
    Ok(converted)
}
