//! Reading and writing the projection tables. The projection crate owns
//! what a state document means; this module only moves rows.
//!
//! Reads always go to the current generation through a sub-select, in one
//! statement, so a swap can never show a reader half of each generation.

use std::collections::HashMap;

use sea_orm::sea_query::{
    Expr, ExprTrait, OnConflict, Query, SelectStatement, UpdateStatement, Value, Values,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
    Statement,
};

use crate::database::WriteTxn;
use crate::entity::producer_state::{self, Entity as ProducerStateTable};
use crate::entity::projection_meta::{self, Entity as ProjectionMetaTable};
use crate::error::StoreError;
use crate::one_row::{OneRowInsert, RowValues};
use crate::open::Store;
use crate::per_backend::PerBackend;
use crate::single_row::{max_of, single_row};
use crate::writer::Commit;

pub use crate::entity::projection_meta::Model as ProjectionMeta;

/// One producer's row in one generation, as the projection crate writes
/// and reads it (the columns are documented on [`producer_state::Model`]).
pub use crate::entity::producer_state::Model as ProducerRow;

/// What a finished rebuild reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildFigures {
    /// Log entries read and folded.
    pub events_folded: i64,
    /// Producer rows written.
    pub producers_written: i64,
    /// Wall time, in milliseconds.
    pub duration_ms: i64,
    /// When the swap happened, in microseconds since the epoch.
    pub finished_at: i64,
}

fn current_generation() -> SelectStatement {
    Query::select()
        .column(projection_meta::Column::Generation)
        .from(ProjectionMetaTable)
        .and_where(Expr::col(projection_meta::Column::IsCurrent).eq(true))
        .to_owned()
}

/// `generation = (SELECT generation … WHERE is_current)`: a scalar
/// sub-select, which SQLite evaluates once per statement; `IN (SELECT …)`
/// built a temporary index on every execution.
fn in_current_generation() -> sea_orm::sea_query::SimpleExpr {
    Expr::col((ProducerStateTable, producer_state::Column::Generation))
        .eq(Expr::from(current_generation()))
}

/// The generation queries read, with its position and figures.
pub(crate) fn current_meta(db: &DatabaseConnection) -> Result<Option<ProjectionMeta>, DbErr> {
    single_row(current_meta_select().into_model(), db)
}

/// The `SELECT` of the current generation's meta row.
pub(crate) fn current_meta_select() -> Select<ProjectionMetaTable> {
    ProjectionMetaTable::find().filter(projection_meta::Column::IsCurrent.eq(true))
}

/// The highest generation number ever created (0 when none).
pub(crate) fn latest_generation(db: &DatabaseConnection) -> Result<i64, DbErr> {
    Ok(max_of::<ProjectionMetaTable, _>(projection_meta::Column::Generation, db)?.unwrap_or(0))
}

/// The `UPDATE` recording how far a generation has folded the log, and its
/// global facts.
pub(crate) fn set_applied_update(
    generation: i64,
    applied_position: i64,
    global_state: String,
) -> UpdateStatement {
    ProjectionMetaTable::update_many()
        .col_expr(
            projection_meta::Column::AppliedPosition,
            Expr::value(applied_position),
        )
        .col_expr(
            projection_meta::Column::GlobalState,
            Expr::value(global_state),
        )
        .filter(projection_meta::Column::Generation.eq(generation))
        .into_query()
}

/// The two `UPDATE`s that make `new` the current generation in place of
/// every other, with the rebuild's figures (run inside the swap
/// transaction).
pub(crate) fn swap_generation_updates(new: i64, figures: RebuildFigures) -> [UpdateStatement; 2] {
    let others = ProjectionMetaTable::update_many()
        .col_expr(projection_meta::Column::IsCurrent, Expr::value(false))
        .filter(projection_meta::Column::Generation.ne(new))
        .into_query();
    let this = ProjectionMetaTable::update_many()
        .col_expr(projection_meta::Column::IsCurrent, Expr::value(true))
        .col_expr(
            projection_meta::Column::FinishedAt,
            Expr::value(figures.finished_at),
        )
        .col_expr(
            projection_meta::Column::EventsFolded,
            Expr::value(figures.events_folded),
        )
        .col_expr(
            projection_meta::Column::ProducersWritten,
            Expr::value(figures.producers_written),
        )
        .col_expr(
            projection_meta::Column::DurationMs,
            Expr::value(figures.duration_ms),
        )
        .filter(projection_meta::Column::Generation.eq(new))
        .into_query();
    [others, this]
}

/// How many producer rows one transaction of
/// [`Store::delete_generations_before`]
/// deletes. Deleting a whole generation of 100,000 rows in one statement
/// held SQLite's write lock for ~0.4 s, stalling every delivery meanwhile;
/// a chunk takes a few milliseconds.
pub const DELETE_CHUNK: u64 = 2_000;

/// Deletes up to `chunk` rows of the oldest generation below `generation`
/// and returns how many went, or, when no such generation has rows left,
/// deletes the meta rows below `generation` and returns `None`.
fn delete_old_chunk(
    db: &DatabaseConnection,
    generation: i64,
    chunk: u64,
) -> Result<Option<u64>, DbErr> {
    let Some(old) = oldest_generation_row(db, generation)? else {
        ProjectionMetaTable::delete_many()
            .filter(projection_meta::Column::Generation.lt(generation))
            .exec(db)?;
        return Ok(None);
    };
    let mut delete =
        ProducerStateTable::delete_many().filter(producer_state::Column::Generation.eq(old));
    if let Some(last) = chunk_end(db, old, chunk)? {
        delete = delete.filter(producer_state::Column::Npn.lte(last));
    }
    Ok(Some(delete.exec(db)?.rows_affected))
}

/// The oldest generation below `generation` that still has producer rows.
fn oldest_generation_row(db: &DatabaseConnection, generation: i64) -> Result<Option<i64>, DbErr> {
    let oldest: Option<Option<i64>> = single_row(
        ProducerStateTable::find()
            .select_only()
            .expr(Expr::col(producer_state::Column::Generation).min())
            .filter(producer_state::Column::Generation.lt(generation))
            .into_tuple(),
        db,
    )?;
    Ok(oldest.flatten())
}

/// The NPN of the `chunk`-th row of a generation in NPN order, or `None`
/// when it has no more rows than that.
fn chunk_end(
    db: &DatabaseConnection,
    generation: i64,
    chunk: u64,
) -> Result<Option<String>, DbErr> {
    ProducerStateTable::find()
        .select_only()
        .column(producer_state::Column::Npn)
        .filter(producer_state::Column::Generation.eq(generation))
        .order_by_asc(producer_state::Column::Npn)
        .offset(Ord::max(chunk, 1) - 1)
        .into_tuple()
        .one(db)
}

/// The `SELECT` of these NPNs' rows in a generation.
pub(crate) fn producers_select(generation: i64, npns: Vec<String>) -> Select<ProducerStateTable> {
    ProducerStateTable::find()
        .filter(producer_state::Column::Generation.eq(generation))
        .filter(producer_state::Column::Npn.is_in(npns))
}

/// Producer rows ready to be written into one generation, each as its own
/// upsert statement. They are made where the rows are made (a rebuild makes
/// the next chunk's on its own thread while the writer writes the chunk
/// before), so the writer only binds and runs them.
#[derive(Debug)]
pub struct ProducerUpserts {
    rows: Vec<(&'static OneRowInsert, RowValues)>,
}

impl ProducerUpserts {
    /// The upserts of `rows`, each into its generation, in their order.
    /// `stored_status` is the status each NPN's row has now (no entry: no
    /// row yet). A row whose status stays the same is updated without
    /// setting its status column: SQLite rewrites an index entry whenever
    /// one of its columns is set, even to the value it had, so setting it
    /// dirtied one more random page of the status index per delivery
    /// (measured: 3,178 WAL frames against 1,599 for the same 1,600
    /// upserts).
    pub fn new(
        rows: Vec<ProducerRow>,
        stored_status: &HashMap<String, String>,
    ) -> Result<Self, StoreError> {
        let rows = rows
            .into_iter()
            .map(|row| {
                let upsert = if stored_status.get(&row.npn) == Some(&row.status) {
                    &UPSERT_KEEPING_STATUS
                } else {
                    &UPSERT
                };
                Ok((
                    upsert,
                    RowValues::of(producer_state::ActiveModel::from(row))?,
                ))
            })
            .collect::<Result<_, DbErr>>()?;
        Ok(Self { rows })
    }

    /// Runs the upserts in `txn`: those of each kind together (their rows
    /// are of distinct producers, so their order does not matter).
    pub(crate) fn run(self, txn: &WriteTxn) -> Result<(), DbErr> {
        if txn.rows_per_insert() <= 1 {
            // One statement per row, in order.
            for (upsert, values) in self.rows {
                txn.execute(upsert.bind::<ProducerStateTable>(txn.backend(), values)?)?;
            }
            return Ok(());
        }
        let (replacing, keeping): (Vec<_>, Vec<_>) = self
            .rows
            .into_iter()
            .partition(|(upsert, _)| std::ptr::eq(*upsert, &UPSERT));
        for (upsert, rows) in [(&UPSERT, replacing), (&UPSERT_KEEPING_STATUS, keeping)] {
            let rows = rows.into_iter().map(|(_, values)| values).collect();
            upsert.insert_all::<ProducerStateTable>(txn, rows)?;
        }
        Ok(())
    }
}

/// The upsert of one producer row, every column replaced.
static UPSERT: OneRowInsert = OneRowInsert::new(|| Some(on_key_conflict(true)));
/// The upsert of one producer row, its status column kept.
static UPSERT_KEEPING_STATUS: OneRowInsert = OneRowInsert::new(|| Some(on_key_conflict(false)));

/// `ON CONFLICT (generation, npn) DO UPDATE` of every column but the key,
/// the status only when `update_status`.
fn on_key_conflict(update_status: bool) -> OnConflict {
    let mut updated = vec![
        producer_state::Column::FoldState,
        producer_state::Column::LastPosition,
        producer_state::Column::LastActivatedAt,
        producer_state::Column::LastDeactivatedAt,
        producer_state::Column::FirstEventAt,
        producer_state::Column::LastEventAt,
        producer_state::Column::EventCount,
        producer_state::Column::Deleted,
        producer_state::Column::Profile,
    ];
    if update_status {
        updated.push(producer_state::Column::Status);
    }
    OnConflict::columns([
        producer_state::Column::Generation,
        producer_state::Column::Npn,
    ])
    .update_columns(updated)
    .to_owned()
}

/// `SELECT` of one producer of the current generation.
fn current_producer_select(npn: &str) -> SelectStatement {
    Query::select()
        .columns(<producer_state::Column as sea_orm::Iterable>::iter())
        .from(ProducerStateTable)
        .and_where(in_current_generation())
        .and_where(Expr::col(producer_state::Column::Npn).eq(npn))
        .to_owned()
}

/// [`current_producer_select`] for `backend` with `npn` bound. The SQL text
/// is built once per backend and kept: building it was a few percent of the
/// CPU of each `producer(npn)` lookup. The NPN is found among the values by
/// the placeholder it was built with.
fn current_producer_statement(backend: DbBackend, npn: &str) -> Statement {
    const PLACEHOLDER: &str = "\u{0}npn";
    static TEMPLATE: PerBackend<Statement> = PerBackend::new();
    let template = TEMPLATE.get_or_init(backend, || {
        backend.build(&current_producer_select(PLACEHOLDER))
    });
    let values = template.values.as_ref().map(|values| {
        Values(
            values
                .iter()
                .map(|value| match value {
                    Value::String(Some(text)) if text == PLACEHOLDER => Value::from(npn),
                    other => other.clone(),
                })
                .collect(),
        )
    });
    Statement {
        sql: template.sql.clone(),
        values,
        db_backend: template.db_backend,
    }
}

impl Store {
    /// One producer of the current generation: the `producer(npn)` lookup,
    /// on the calling thread's own connection.
    pub async fn current_producer(&self, npn: &str) -> Result<Option<ProducerRow>, StoreError> {
        self.read_here(|db| {
            let statement = current_producer_statement(db.get_database_backend(), npn);
            match db.query_one_raw(statement)? {
                Some(row) => ProducerRow::from_query_result(&row, "").map(Some),
                None => Ok(None),
            }
        })
    }
}

/// Up to `limit` producers of the current generation after `after_npn`, by
/// NPN, optionally with one status.
fn current_producers_select(
    status: Option<&str>,
    after_npn: Option<&str>,
    limit: u64,
) -> Select<ProducerStateTable> {
    let mut query = current_producers_with(status);
    if let Some(after) = after_npn {
        query = query.filter(producer_state::Column::Npn.gt(after));
    }
    query.order_by_asc(producer_state::Column::Npn).limit(limit)
}

/// The producers of the current generation with `status` (all when
/// `None`).
fn current_producers_with(status: Option<&str>) -> Select<ProducerStateTable> {
    let mut query = ProducerStateTable::find().filter(in_current_generation());
    if let Some(status) = status {
        query = query.filter(producer_state::Column::Status.eq(status));
    }
    query
}

/// The `SELECT` behind [`Store::current_npns_with_status`].
fn npns_with_status_select(status: &str) -> Select<ProducerStateTable> {
    ProducerStateTable::find()
        .select_only()
        .column(producer_state::Column::Npn)
        .filter(in_current_generation())
        .filter(producer_state::Column::Status.eq(status))
        .order_by_asc(producer_state::Column::Npn)
}

impl Store {
    /// Every NPN of the current generation with `status`, sorted: the
    /// `activeNpns` list, read on a blocking thread's own connection (no
    /// hop per row).
    pub async fn current_npns_with_status(&self, status: &str) -> Result<Vec<String>, StoreError> {
        let select = npns_with_status_select(status).into_tuple::<String>();
        self.read(move |db| select.all(db)).await
    }
}

/// The projection's tables, for the projection crate: generations, their
/// meta rows and their producer rows. A rebuild's shadow rows and the
/// swap go through [`Store::write_transaction`].
impl Store {
    /// The generation queries read, with its position and figures.
    pub async fn current_meta(&self) -> Result<Option<ProjectionMeta>, StoreError> {
        self.read(current_meta).await
    }

    /// The highest generation number ever created (0 when none).
    pub async fn latest_generation(&self) -> Result<i64, StoreError> {
        self.read(latest_generation).await
    }

    /// Creates a generation's meta row.
    pub async fn insert_meta(&self, meta: ProjectionMeta) -> Result<(), StoreError> {
        let insert = ProjectionMetaTable::insert(projection_meta::ActiveModel::from(meta));
        self.write(Commit::Synced, move |txn| {
            insert.exec_without_returning(txn.connection())?;
            Ok::<_, StoreError>(())
        })
        .await
    }

    /// Deletes every generation older than `generation`: those a swap to
    /// it replaced, and shadows of rebuilds that never finished. Newer ones
    /// are left alone: they may belong to a rebuild still running
    /// elsewhere. Rows go in NPN order, `chunk` rows per transaction (see
    /// [`DELETE_CHUNK`]), so appends interleave; the meta rows go last.
    /// Returns how many producer rows went.
    pub async fn delete_generations_before(
        &self,
        generation: i64,
        chunk: u64,
    ) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            // Not synced: rows a crash keeps are deleted at the next start.
            let step = self.write(Commit::Unsynced, move |txn| {
                Ok::<_, StoreError>(delete_old_chunk(txn.connection(), generation, chunk)?)
            });
            match step.await? {
                Some(rows) => deleted += rows,
                None => return Ok(deleted),
            }
        }
    }

    /// The rows of these NPNs in a generation.
    pub async fn load_producers(
        &self,
        generation: i64,
        npns: Vec<String>,
    ) -> Result<Vec<ProducerRow>, StoreError> {
        let select = producers_select(generation, npns);
        self.read(move |db| select.all(db)).await
    }

    /// Inserts or replaces rows in a generation, outside any append: for
    /// tests and tools that stage a generation by hand.
    pub async fn upsert_producers(&self, rows: Vec<ProducerRow>) -> Result<(), StoreError> {
        let upserts = ProducerUpserts::new(rows, &HashMap::new())?;
        self.write_transaction(Commit::Synced, move |txn| txn.upsert_producers(upserts))
            .await
    }

    /// Up to `limit` producers of the current generation after `after_npn`,
    /// by NPN, optionally with one status.
    pub async fn current_producers_page(
        &self,
        status: Option<&str>,
        after_npn: Option<&str>,
        limit: u64,
    ) -> Result<Vec<ProducerRow>, StoreError> {
        let select = current_producers_select(status, after_npn, limit);
        self.read(move |db| select.all(db)).await
    }

    /// How many producers of the current generation have `status` (all
    /// when `None`).
    pub async fn count_current_producers(&self, status: Option<&str>) -> Result<u64, StoreError> {
        let select = current_producers_with(status);
        self.read(move |db| select.count(db)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_producer_lookup_is_the_statement_built_afresh() {
        let backends = [DbBackend::Sqlite, DbBackend::Postgres];
        for (backend, npn) in backends.into_iter().zip(["1000500", "7", "o'brien \u{0}"]) {
            let kept = current_producer_statement(backend, npn);
            let afresh = backend.build(&current_producer_select(npn));
            assert_eq!(kept.sql, afresh.sql);
            assert_eq!(kept.values, afresh.values);
            assert!(
                kept.values
                    .as_ref()
                    .is_some_and(|values| values.0.contains(&Value::from(npn))),
                "the NPN is bound"
            );
        }
    }
}
