//! Reading the log by time, for activity charts and time travel. Only key
//! columns are read where bodies are not needed.
//!
//! These reads cover the whole log, so they run as a series of statements
//! over ranges of [`POSITIONS_PER_READ`] positions: no one statement walks
//! more than that many rows, and a request that is given up (its GraphQL
//! timeout passed, its client left) stops between two of them instead of
//! reading on in the background.

use sea_orm::sea_query::ExprTrait;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use crate::entity::event_log::{Column, Entity as EventLog};
use crate::{LogEntry, Store, StoreError};

/// The key columns of one understood log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedEntry {
    /// Log position.
    pub position: i64,
    /// The event type.
    pub event_type: String,
    /// The NPN, if any.
    pub npn: Option<String>,
    /// The envelope id.
    pub event_id: Option<String>,
    /// Occurred (or else received) time, µs since the epoch.
    pub time: i64,
}

/// position, type, npn, event id, occurred at, received at.
type KeyRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
);

/// The positions one statement of a whole-log read covers. SQLite may
/// sort a statement's rows before it returns the first one, and a given-up
/// request waits for that; 10,000 rows keep it to milliseconds.
pub const POSITIONS_PER_READ: i64 = 10_000;

const KEY_COLUMNS: [Column; 6] = [
    Column::Position,
    Column::EventType,
    Column::Npn,
    Column::EventId,
    Column::OccurredAt,
    Column::ReceivedAt,
];

impl From<KeyRow> for KeyedEntry {
    fn from((position, event_type, npn, event_id, occurred_at, received_at): KeyRow) -> Self {
        Self {
            position,
            event_type: event_type.unwrap_or_default(),
            npn,
            event_id,
            time: occurred_at.unwrap_or(received_at),
        }
    }
}

impl Store {
    /// Understood entries of the given types whose time (occurred, or else
    /// received) is at most `until` (µs), or all when `until` is `None`,
    /// in log order.
    pub async fn keyed_entries_of_types(
        &self,
        types: &[&str],
        until: Option<i64>,
    ) -> Result<Vec<KeyedEntry>, StoreError> {
        let mut query = EventLog::find()
            .filter(Column::EventType.is_in(types.iter().copied()))
            .filter(Column::UnfoldedReason.is_null());
        if let Some(until) = until {
            query = query.filter(time_at_most(until));
        }
        self.keyed_entries_by_range(query).await
    }

    /// Entries (any type, understood or not) whose time is in
    /// `[from, to)`, key columns only, in log order.
    pub async fn keyed_entries_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<KeyedEntry>, StoreError> {
        let in_range = Condition::any()
            .add(Column::OccurredAt.gte(from).and(Column::OccurredAt.lt(to)))
            .add(
                Column::OccurredAt
                    .is_null()
                    .and(Column::ReceivedAt.gte(from))
                    .and(Column::ReceivedAt.lt(to)),
            );
        let query = EventLog::find()
            .filter(in_range)
            .filter(Column::UnfoldedReason.is_null());
        self.keyed_entries_by_range(query).await
    }

    /// The key columns of the entries `query` selects, read one range of
    /// [`POSITIONS_PER_READ`] positions per statement up to the log's
    /// head, in position order.
    async fn keyed_entries_by_range(
        &self,
        query: Select<EventLog>,
    ) -> Result<Vec<KeyedEntry>, StoreError> {
        let head = self.log_head().await?;
        let mut entries = Vec::new();
        let mut after = 0;
        while after < head {
            let until = after.saturating_add(POSITIONS_PER_READ);
            let select = query
                .clone()
                .select_only()
                .columns(KEY_COLUMNS)
                .filter(Column::Position.gt(after))
                .filter(Column::Position.lte(until))
                .order_by_asc(Column::Position)
                .into_tuple::<KeyRow>();
            let rows = self.read(move |db| select.all(db)).await?;
            entries.extend(rows.into_iter().map(KeyedEntry::from));
            after = until;
        }
        Ok(entries)
    }

    /// Every entry naming `npn` whose time is at most `until` (µs), with
    /// bodies, oldest first.
    pub async fn entries_for_npn_until(
        &self,
        npn: &str,
        until: i64,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let select = EventLog::find()
            .filter(Column::Npn.eq(npn))
            .filter(time_at_most(until))
            .order_by_asc(Column::Position);
        self.read(move |db| select.all(db)).await
    }
}

/// Occurred at or before `until`, or (without a timestamp) received then.
fn time_at_most(until: i64) -> Condition {
    Condition::any().add(Column::OccurredAt.lte(until)).add(
        Column::OccurredAt
            .is_null()
            .and(Column::ReceivedAt.lte(until)),
    )
}
