//! The GraphQL object types, kept apart from the database rows.

mod event;
mod producer;
mod status;
mod string_list;

pub use event::{Event, EventConnection, TotalCountFields, event_page};
pub use producer::{Producer, ProducerConnection, ProducerStatus};
pub(crate) use status::by_reason;
pub use status::{ProjectionStatus, RebuildResult, Stats, TypeCount};
pub use string_list::StringList;

use async_graphql::Json;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// A payload as it may leave the service: sensitive keys masked.
pub(crate) fn masked(mut value: Value) -> Json<Value> {
    agentsync_events::mask_value(&mut value);
    Json(value)
}

/// Microseconds since the epoch as a GraphQL `DateTime`.
pub(crate) fn datetime(micros: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
}
