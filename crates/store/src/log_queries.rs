//! Reading the event log.

use sea_orm::sea_query::{Expr, ExprTrait, SelectStatement, Value, Values};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Select,
    Statement,
};

use crate::entity::event_log::{Column, Entity as EventLog};
use crate::per_backend::PerBackend;
use crate::single_row::{max_of, single_row};
use crate::{LogEntry, Store, StoreError};

/// Which log entries to list.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Only entries naming this NPN.
    pub npn: Option<String>,
    /// Only entries of this event type.
    pub event_type: Option<String>,
}

impl LogFilter {
    fn condition(&self) -> Condition {
        let mut condition = Condition::all();
        if let Some(npn) = &self.npn {
            condition = condition.add(Column::Npn.eq(npn.clone()));
        }
        if let Some(event_type) = &self.event_type {
            condition = condition.add(Column::EventType.eq(event_type.clone()));
        }
        condition
    }
}

/// One of `of` disjoint shares of the log's entries, split by NPN, so that a
/// rebuild can fold the producers in passes of bounded memory and read
/// only its share's rows in each: an NPN's entries are in share
/// `npn % of` (NPNs are digit strings), entries without an NPN in share 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NpnShare {
    /// Which share, `0..of`.
    pub index: u64,
    /// How many shares.
    pub of: u64,
}

impl NpnShare {
    /// Whether an entry naming `npn` is in this share: the rule of the SQL
    /// filter, for entries read otherwise.
    pub fn holds(self, npn: Option<&str>) -> bool {
        match npn {
            _ if self.of <= 1 => true,
            None => self.index == 0,
            // A text SQL cannot read as a number casts to 0.
            Some(npn) => npn.parse::<u64>().map_or(0, |npn| npn % self.of) == self.index,
        }
    }

    /// The SQL filter (`None`: every entry).
    fn condition(self) -> Option<Condition> {
        if self.of <= 1 {
            return None;
        }
        let as_number = Expr::col(Column::Npn).cast_as("BIGINT");
        let in_share = as_number
            .modulo(i64::try_from(self.of).unwrap_or(i64::MAX))
            .eq(i64::try_from(self.index).unwrap_or(i64::MAX));
        Some(match self.index {
            0 => Condition::any().add(Column::Npn.is_null()).add(in_share),
            _ => Condition::all().add(in_share),
        })
    }
}

/// How many log entries have one event type (`None`: no readable type).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeCount {
    /// The event type.
    pub event_type: Option<String>,
    /// How many entries have it.
    pub count: i64,
}

/// The `SELECT` of up to `limit` entries after position `after` that
/// match `filter`, oldest first.
fn entries_select(filter: &LogFilter, after: i64, limit: u64) -> Select<EventLog> {
    EventLog::find()
        .filter(filter.condition())
        .filter(Column::Position.gt(after))
        .order_by_asc(Column::Position)
        .limit(limit)
}

/// What a rebuild reads of a log entry: its raw body, re-interpreted, or
/// for an entry whose stored columns say all the fold needs, those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebuildRow {
    /// Log position.
    pub position: i64,
    /// The NPN the entry was stored under.
    pub npn: Option<String>,
    /// Reception time, µs since the epoch.
    pub received_at: i64,
    /// The body, or the columns that stand for it.
    pub content: RowContent,
}

/// The part of a [`RebuildRow`] the fold interprets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowContent {
    /// The raw body, to interpret.
    Body(Vec<u8>),
    /// The stored columns of an entry [`ColumnsSuffice`] picked out; its
    /// body was not read.
    Columns(StoredColumns),
}

/// The stored columns that stand for an entry's body in a rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredColumns {
    event_type: String,
    event_id: String,
    /// `occurred_at`.
    pub occurred_at: Option<i64>,
    /// `record_id` (empty where the event has none).
    pub record_id: String,
}

impl StoredColumns {
    /// The columns of an entry of type `event_type` (a known type).
    pub fn new(
        event_type: &str,
        event_id: &str,
        occurred_at: Option<i64>,
        record_id: String,
    ) -> Self {
        Self {
            event_type: event_type.to_owned(),
            event_id: event_id.to_owned(),
            occurred_at,
            record_id,
        }
    }

    /// `event_type`.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// `event_id` (an understood entry always has one).
    pub fn event_id(&self) -> &str {
        &self.event_id
    }
}

/// One read of a rebuild: up to `limit` entries of `share` at positions in
/// `(after, until]`, oldest first, with the bodies of those `columns`
/// picks out left unread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildRead {
    /// Positions after this one.
    pub after: i64,
    /// Positions up to this one.
    pub until: i64,
    /// The share of the NPNs.
    pub share: NpnShare,
    /// The entries read from their columns (`None`: every body is read).
    pub columns: Option<ColumnsSuffice>,
    /// At most this many entries.
    pub limit: u64,
}

/// Which entries a rebuild folds from their stored columns instead of
/// their bodies: those whose columns say all their body says under
/// `interpreter_version` (`columns_suffice_under`). Reading and
/// interpreting their bodies again would give the same columns; skipping
/// it takes three quarters of the bench's bodies off the rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnsSuffice {
    /// The interpreter version the rebuild runs.
    pub interpreter_version: i32,
}

impl ColumnsSuffice {
    /// The SQL test of whether an entry's columns are taken: one integer
    /// comparison per row.
    fn condition(self) -> Condition {
        Condition::all().add(Column::ColumnsSufficeUnder.eq(self.interpreter_version))
    }
}

/// The entries of `read` with what a rebuild reads of them, in table order,
/// which is sequential on disk: the log's own columns, and the body only
/// where the columns do not suffice (`NULL` where it is not read). The
/// columns are in [`RebuildColumns`]' order, which
/// [`RebuildRow::from_row`] reads by place.
fn entries_in_order_select(read: RebuildRead) -> Select<EventLog> {
    let RebuildRead {
        after,
        until,
        share,
        columns,
        limit,
    } = read;
    let body = match columns {
        None => Expr::col(Column::Body),
        Some(columns) => Expr::case(columns.condition(), Expr::val(Option::<Vec<u8>>::None))
            .finally(Expr::col(Column::Body))
            .into(),
    };
    EventLog::find()
        .select_only()
        .columns([Column::Position, Column::Npn, Column::ReceivedAt])
        .column_as(body, "body")
        .columns([
            Column::EventType,
            Column::EventId,
            Column::OccurredAt,
            Column::RecordId,
        ])
        .filter(Column::Position.gt(after))
        .filter(Column::Position.lte(until))
        .apply_if(share.condition(), QueryFilter::filter)
        .order_by_asc(Column::Position)
        .limit(limit)
}

/// The positions and bodies of the entries at `positions`.
fn bodies_select(positions: &[i64]) -> Select<EventLog> {
    EventLog::find()
        .select_only()
        .columns([Column::Position, Column::Body])
        .filter(Column::Position.is_in(positions.iter().copied()))
        .order_by_asc(Column::Position)
}

/// [`bodies_select`] of one position, for `backend`. The SQL text is built
/// once per backend and kept, as for the `producer(npn)` lookup this one
/// follows.
fn body_at_statement(backend: DbBackend, position: i64) -> Statement {
    static TEMPLATE: PerBackend<Statement> = PerBackend::new();
    let template =
        TEMPLATE.get_or_init(backend, || backend.build(&bodies_select(&[0]).into_query()));
    Statement {
        sql: template.sql.clone(),
        values: Some(Values(vec![Value::from(position)])),
        db_backend: template.db_backend,
    }
}

/// A [`RebuildRow`] as selected: position, NPN, reception time, body
/// (`None`: not read, the columns stand for it), type, event id,
/// occurrence time and record id.
type RebuildColumns = (
    i64,
    Option<String>,
    i64,
    Option<Vec<u8>>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

impl RebuildRow {
    /// Reads the columns by their place in [`entries_in_order_select`]:
    /// finding each by name compared strings for every value of every row.
    fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
        Ok(Self::from_columns((
            row.try_get_by_index(0)?,
            row.try_get_by_index(1)?,
            row.try_get_by_index(2)?,
            row.try_get_by_index(3)?,
            row.try_get_by_index(4)?,
            row.try_get_by_index(5)?,
            row.try_get_by_index(6)?,
            row.try_get_by_index(7)?,
        )))
    }

    fn from_columns(
        (position, npn, received_at, body, event_type, event_id, occurred_at, record_id): RebuildColumns,
    ) -> Self {
        let content = match (body, event_type, event_id) {
            (Some(body), _, _) => RowContent::Body(body),
            (None, Some(event_type), Some(event_id)) => RowContent::Columns(StoredColumns {
                event_type,
                event_id,
                occurred_at,
                record_id: record_id.unwrap_or_default(),
            }),
            // The columns suffice only for understood events, which have
            // a type and an id; nothing else leaves the body unread.
            (None, _, _) => RowContent::Body(Vec::new()),
        };
        Self {
            position,
            npn,
            received_at,
            content,
        }
    }
}

impl Store {
    /// The highest position in the log (0 when empty).
    pub async fn log_head(&self) -> Result<i64, StoreError> {
        let head = self.read(|db| max_of::<EventLog, _>(Column::Position, db));
        Ok(head.await?.unwrap_or(0))
    }

    /// How many entries match the filter.
    pub async fn count_entries(&self, filter: &LogFilter) -> Result<u64, StoreError> {
        let select = EventLog::find().filter(filter.condition());
        self.read(move |db| select.count(db)).await
    }

    /// Up to `limit` entries after `after` (a position), oldest first.
    pub async fn list_entries(
        &self,
        filter: &LogFilter,
        after: i64,
        limit: u64,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let select = entries_select(filter, after, limit);
        self.read(move |db| select.all(db)).await
    }

    /// The entry a delivery was stored as.
    pub async fn entry_by_webhook_id(
        &self,
        webhook_id: &str,
    ) -> Result<Option<LogEntry>, StoreError> {
        let select = EventLog::find()
            .filter(Column::WebhookId.eq(webhook_id))
            .into_model();
        self.read(move |db| single_row(select, db)).await
    }

    /// Entries per event type, for stats.
    pub async fn count_by_type(&self) -> Result<Vec<TypeCount>, StoreError> {
        let select = EventLog::find()
            .select_only()
            .column(Column::EventType)
            .column_as(Expr::col(Column::Position).count(), "count")
            .group_by(Column::EventType)
            .order_by_asc(Column::EventType)
            .into_tuple::<(Option<String>, i64)>();
        let rows = self.read(move |db| select.all(db)).await?;
        Ok(rows
            .into_iter()
            .map(|(event_type, count)| TypeCount { event_type, count })
            .collect())
    }

    /// When the latest delivery was received (µs since the epoch).
    pub async fn last_received_at(&self) -> Result<Option<i64>, StoreError> {
        self.read(|db| max_of::<EventLog, _>(Column::ReceivedAt, db))
            .await
    }

    /// The entries of one [`RebuildRead`], as a rebuild reads them, on a
    /// blocking thread's own connection (no hop per row).
    pub async fn entries_in_order(&self, read: RebuildRead) -> Result<Vec<RebuildRow>, StoreError> {
        let select = entries_in_order_select(read).into_query();
        self.read(move |db| rebuild_rows(db, &select)).await
    }

    /// [`Store::entries_in_order`] on the calling thread's own connection,
    /// for a thread that is there to block on its reads (a rebuild's
    /// collecting threads each read their own ranges of the log).
    pub fn entries_in_order_here(&self, read: RebuildRead) -> Result<Vec<RebuildRow>, StoreError> {
        let select = entries_in_order_select(read).into_query();
        self.read_here(|db| rebuild_rows(db, &select))
    }

    /// Reads every raw body of the log, a page at a time, the way a rebuild
    /// reads, and returns how many rows and bytes it read: the read ceiling
    /// a rebuild is compared with.
    pub async fn scan_bodies(&self, page: u64) -> Result<(u64, u64), StoreError> {
        let (mut rows, mut bytes, mut after) = (0u64, 0u64, 0i64);
        loop {
            let select = EventLog::find()
                .select_only()
                .columns([Column::Position, Column::Body])
                .filter(Column::Position.gt(after))
                .order_by_asc(Column::Position)
                .limit(page)
                .into_tuple::<(i64, Vec<u8>)>();
            let batch = self.read(move |db| select.all(db)).await?;
            let Some((last, _)) = batch.last() else {
                return Ok((rows, bytes));
            };
            after = *last;
            rows += batch.len() as u64;
            bytes += batch.iter().map(|(_, body)| body.len() as u64).sum::<u64>();
        }
    }

    /// The raw bodies at `positions`, in position order: the payloads a
    /// producer's state refers to, read on the calling thread like the
    /// state lookup it follows (primary-key reads).
    pub async fn bodies_at(&self, positions: &[i64]) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        if positions.is_empty() {
            return Ok(Vec::new());
        }
        self.read_here(|db| {
            let backend = db.get_database_backend();
            let statement = match positions {
                [position] => body_at_statement(backend, *position),
                _ => backend.build(&bodies_select(positions).into_query()),
            };
            db.query_all_raw(statement)?
                .iter()
                .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
                .collect()
        })
    }

    /// How many entries this release could not fold, leaving out the
    /// sender portal's test messages (see [`Store::count_test_deliveries`]).
    pub async fn count_unfolded(&self) -> Result<u64, StoreError> {
        let select = EventLog::find()
            .filter(Column::UnfoldedReason.is_not_null())
            .filter(Column::UnfoldedReason.ne(agentsync_events::TEST_DELIVERY));
        self.read(move |db| select.count(db)).await
    }

    /// How many entries are the sender portal's test messages (`svix.ping`):
    /// kept like every verified delivery, but not events.
    pub async fn count_test_deliveries(&self) -> Result<u64, StoreError> {
        let select =
            EventLog::find().filter(Column::UnfoldedReason.eq(agentsync_events::TEST_DELIVERY));
        self.read(move |db| select.count(db)).await
    }
}

/// The rows of a rebuild's read, converted on the thread that read them.
fn rebuild_rows(
    db: &DatabaseConnection,
    select: &SelectStatement,
) -> Result<Vec<RebuildRow>, DbErr> {
    let rows = db.query_all_raw(db.get_database_backend().build(select))?;
    let mut converted = Vec::with_capacity(rows.len());
    for row in &rows {
        converted.push(RebuildRow::from_row(row)?);
    }
    Ok(converted)
}
