//! Log entries as GraphQL sees them.

use async_graphql::connection::{Connection, CursorType, Edge, OpaqueCursor};
use async_graphql::{Json, Object, SimpleObject};
use chrono::{DateTime, Utc};
use event_store::{LogEntry, LogFilter, Store};
use serde_json::Value;

use crate::error::{ApiError, ApiResult};
use crate::limits::page_size;
use crate::types::datetime;

/// One entry of the event log.
pub struct Event(pub LogEntry);

#[Object]
impl Event {
    /// Gap-free position in commit order.
    async fn position(&self) -> i64 {
        self.0.position
    }
    /// The delivery key (`webhook-id`).
    async fn webhook_id(&self) -> &str {
        &self.0.webhook_id
    }
    /// The envelope `id`, where the body has one.
    async fn event_id(&self) -> Option<&str> {
        self.0.event_id.as_deref()
    }
    /// The envelope `type`, where the body has one.
    #[graphql(name = "type")]
    async fn event_type(&self) -> Option<&str> {
        self.0.event_type.as_deref()
    }
    /// The envelope `timestamp`.
    async fn occurred_at(&self) -> Option<DateTime<Utc>> {
        self.0.occurred_at.and_then(datetime)
    }
    /// When the delivery was received.
    async fn received_at(&self) -> Option<DateTime<Utc>> {
        datetime(self.0.received_at)
    }
    /// The webhook path it arrived on.
    async fn source(&self) -> &str {
        &self.0.source
    }
    /// The producer it names, if any.
    async fn npn(&self) -> Option<&str> {
        self.0.npn.as_deref()
    }
    /// Whether this release understood it and folded it.
    async fn folded(&self) -> bool {
        self.0.unfolded_reason.is_none()
    }
    /// Why it was not folded (`unknown_type`, `not_json`, …).
    async fn unfolded_reason(&self) -> Option<&str> {
        self.0.unfolded_reason.as_deref()
    }
    /// The body as JSON, sensitive fields masked; null when not JSON.
    async fn payload(&self) -> Option<Json<Value>> {
        agentsync_events::masked_body(&self.0.body).map(Json)
    }
}

/// The total count of a connection.
#[derive(SimpleObject)]
#[graphql(name = "TotalCount")]
pub struct TotalCountFields {
    /// How many items match, over all pages.
    pub total_count: u64,
}

/// A page of log entries.
pub type EventConnection = Connection<OpaqueCursor<i64>, Event, TotalCountFields>;

/// One page of the log after the `after` cursor, oldest first.
pub async fn event_page(
    store: &Store,
    filter: LogFilter,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<EventConnection> {
    let limit = page_size(first)?;
    let after_position = match after {
        Some(cursor) => {
            *OpaqueCursor::<i64>::decode_cursor(&cursor).map_err(|_| ApiError::InvalidCursor)?
        }
        None => 0,
    };
    let mut entries = store
        .list_entries(&filter, after_position, limit + 1)
        .await?;
    let has_next = entries.len() as u64 > limit;
    entries.truncate(limit as usize);
    let total_count = store.count_entries(&filter).await?;
    let mut connection = Connection::with_additional_fields(
        after_position > 0,
        has_next,
        TotalCountFields { total_count },
    );
    connection.edges = entries
        .into_iter()
        .map(|entry| Edge::new(OpaqueCursor(entry.position), Event(entry)))
        .collect();
    Ok(connection)
}
