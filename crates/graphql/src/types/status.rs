//! The projection's status, stats and rebuild figures.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

/// Where the projection stands against the log.
#[derive(SimpleObject)]
pub struct ProjectionStatus {
    /// The last log position folded into the current generation.
    pub applied_position: i64,
    /// The last log position.
    pub log_head: i64,
    /// `log_head - applied_position`.
    pub lag: i64,
    /// The current generation.
    pub generation: i64,
    /// The fold version that built the current generation.
    pub fold_version: i32,
    /// The fold version of this release.
    pub code_fold_version: i32,
    /// Whether a rebuild is running.
    pub rebuilding: bool,
    /// When the current generation was swapped in by a rebuild.
    pub last_rebuild_at: Option<DateTime<Utc>>,
    /// The figures of that rebuild.
    pub last_rebuild: Option<RebuildResult>,
}

/// What a rebuild did.
#[derive(SimpleObject, Clone, Copy)]
pub struct RebuildResult {
    /// The generation it built.
    pub generation: i64,
    /// Log entries read and folded.
    pub events_folded: i64,
    /// Producers written.
    pub producers_written: i64,
    /// Duration in milliseconds.
    pub duration_ms: i64,
    /// Events per second.
    pub events_per_second: f64,
}

/// How many log entries have one type.
#[derive(SimpleObject)]
pub struct TypeCount {
    /// The event type (null for bodies without a readable type).
    #[graphql(name = "type")]
    pub event_type: Option<String>,
    /// How many.
    pub count: i64,
}

/// Counts for dashboards.
#[derive(SimpleObject)]
pub struct Stats {
    /// Producers whose status is ACTIVE.
    pub active_count: u64,
    /// Producers whose status is INACTIVE.
    pub inactive_count: u64,
    /// Entries in the log.
    pub events_in_log: i64,
    /// Entries per event type.
    pub events_by_type: Vec<TypeCount>,
    /// Entries this release could not fold (test deliveries not included).
    pub unfolded_events: u64,
    /// The sender portal's test messages (`svix.ping`), kept but not events.
    pub test_deliveries: u64,
    /// The last `producersync.updates_available` runDate.
    pub last_run_date: Option<String>,
    /// When the latest delivery was received.
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// Refused deliveries by reason, all time (bodies are never stored).
    pub rejected_deliveries: Vec<RejectionReasonCount>,
    /// Refused deliveries by reason over the last 24 hours.
    pub recent_rejections: Vec<RejectionReasonCount>,
}

/// How many deliveries were refused for one reason.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct RejectionReasonCount {
    /// The stable error code: `signature_mismatch`, `stale_timestamp`,
    /// `future_timestamp`, `missing_header`, `invalid_timestamp`,
    /// `malformed_signature`, `invalid_header_encoding`, `payload_too_large`,
    /// `body_unreadable`.
    pub reason: String,
    /// How many.
    pub count: i64,
    /// The latest one.
    pub last_at: Option<DateTime<Utc>>,
}

/// Sums hourly counts by reason.
pub(crate) fn by_reason(counts: Vec<event_store::RejectionCount>) -> Vec<RejectionReasonCount> {
    let mut totals: std::collections::BTreeMap<String, (i64, i64)> = Default::default();
    for count in counts {
        let slot = totals.entry(count.reason).or_default();
        slot.0 += count.count;
        slot.1 = slot.1.max(count.last_at);
    }
    totals
        .into_iter()
        .map(|(reason, (count, last_at))| RejectionReasonCount {
            reason,
            count,
            last_at: DateTime::from_timestamp_micros(last_at),
        })
        .collect()
}
