//! Queries over time, answered from the log: time travel (state as of a
//! moment, by folding the log up to it) and activity per bucket.

use agentsync_events::{NPN_ACTIVATED, NPN_DEACTIVATED};
use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};
use event_store::Store;
use projection::{
    FoldEvent, ProducerState, STATUS_TYPES, active_count_series, active_npns, fold, status_event,
};

use crate::error::{ApiError, ApiResult};
use crate::types::Producer;

/// The most buckets one series may have.
const MAX_BUCKETS: i64 = 5_000;

/// The width of a bucket, aligned to UTC hours or days.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum Bucket {
    /// One hour.
    Hour,
    /// One UTC day.
    Day,
}

impl Bucket {
    fn micros(self) -> i64 {
        match self {
            Bucket::Hour => 3_600_000_000,
            Bucket::Day => 86_400_000_000,
        }
    }
}

/// Counts from the log for one bucket.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct ActivityBucket {
    /// The bucket's start (inclusive).
    pub start: DateTime<Utc>,
    /// The bucket's end (exclusive).
    pub end: DateTime<Utc>,
    /// `producersync.npn.activated` events.
    pub activations: u64,
    /// `producersync.npn.deactivated` events.
    pub deactivations: u64,
    /// `id.producer.*` events: profile, address, phone, bank account, E&O.
    pub profile_changes: u64,
    /// Deliveries refused (bad signature, stale timestamp, malformed, too large).
    pub rejected_deliveries: u64,
}

/// The active population at one moment.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct ActiveCountPoint {
    /// The end of the bucket.
    pub at: DateTime<Utc>,
    /// Producers active then.
    pub active_count: u64,
}

fn micros(moment: DateTime<Utc>) -> i64 {
    moment.timestamp_micros()
}

fn moment(micros: i64) -> ApiResult<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| ApiError::InvalidArgument("time out of range".to_owned()))
}

/// Bucket starts covering `[from, to)`, aligned to the bucket width.
fn bucket_starts(from: DateTime<Utc>, to: DateTime<Utc>, bucket: Bucket) -> ApiResult<Vec<i64>> {
    let width = bucket.micros();
    let (from, to) = (micros(from), micros(to));
    if to <= from {
        return Err(ApiError::InvalidArgument(
            "`to` must be after `from`".to_owned(),
        ));
    }
    let first = from - from.rem_euclid(width);
    let count = (to - first + width - 1) / width;
    if count > MAX_BUCKETS {
        return Err(ApiError::InvalidArgument(format!(
            "at most {MAX_BUCKETS} buckets; use a wider bucket or a shorter range"
        )));
    }
    Ok((0..count).map(|n| first + n * width).collect())
}

/// A producer as of `as_of`: its log entries up to then, folded.
pub(crate) async fn producer_as_of(
    store: &Store,
    npn: &str,
    as_of: DateTime<Utc>,
) -> ApiResult<Option<Producer>> {
    let until = micros(as_of);
    let entries = store.entries_for_npn_until(npn, until).await?;
    let events: Vec<FoldEvent> = entries
        .iter()
        .filter_map(FoldEvent::from_entry)
        .filter(|event| event.stamp.time <= until)
        .collect();
    if events.is_empty() {
        return Ok(None);
    }
    let state = events.iter().fold(ProducerState::default(), fold);
    Ok(Some(Producer {
        npn: npn.to_owned(),
        state,
    }))
}

async fn status_events(store: &Store, until: Option<i64>) -> ApiResult<Vec<FoldEvent>> {
    let entries = store.keyed_entries_of_types(&STATUS_TYPES, until).await?;
    Ok(entries.iter().filter_map(status_event).collect())
}

/// Every NPN active as of `as_of`.
pub(crate) async fn active_npns_as_of(
    store: &Store,
    as_of: DateTime<Utc>,
) -> ApiResult<Vec<String>> {
    Ok(active_npns(
        &status_events(store, Some(micros(as_of))).await?,
    ))
}

/// The active population at the end of each bucket.
pub(crate) async fn active_count_points(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: Bucket,
) -> ApiResult<Vec<ActiveCountPoint>> {
    let starts = bucket_starts(from, to, bucket)?;
    let ends: Vec<i64> = starts
        .iter()
        .map(|start| start + bucket.micros() - 1)
        .collect();
    let last = ends.last().copied();
    let counts = active_count_series(status_events(store, last).await?, &ends);
    ends.iter()
        .zip(counts)
        .map(|(&end, active_count)| {
            Ok(ActiveCountPoint {
                at: moment(end + 1)?,
                active_count,
            })
        })
        .collect()
}

/// Activations, deactivations, profile changes and refusals per bucket.
pub(crate) async fn activity(
    store: &Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    bucket: Bucket,
) -> ApiResult<Vec<ActivityBucket>> {
    let starts = bucket_starts(from, to, bucket)?;
    let width = bucket.micros();
    let (Some(&first), Some(&last)) = (starts.first(), starts.last()) else {
        return Ok(Vec::new());
    };
    let mut buckets: Vec<ActivityBucket> = starts
        .iter()
        .map(|&start| {
            Ok(ActivityBucket {
                start: moment(start)?,
                end: moment(start + width)?,
                activations: 0,
                deactivations: 0,
                profile_changes: 0,
                rejected_deliveries: 0,
            })
        })
        .collect::<ApiResult<_>>()?;
    let index = |time: i64| usize::try_from((time - first) / width).ok();
    for entry in store.keyed_entries_between(first, last + width).await? {
        let Some(bucket) = index(entry.time).and_then(|i| buckets.get_mut(i)) else {
            continue;
        };
        match entry.event_type.as_str() {
            NPN_ACTIVATED => bucket.activations += 1,
            NPN_DEACTIVATED => bucket.deactivations += 1,
            t if t.starts_with("id.producer.") => bucket.profile_changes += 1,
            _ => {}
        }
    }
    for rejection in store.rejections_since(first).await? {
        let in_range = rejection.hour_start < last + width;
        if let Some(bucket) = index(rejection.hour_start)
            .filter(|_| in_range)
            .and_then(|i| buckets.get_mut(i))
        {
            bucket.rejected_deliveries += rejection.count as u64;
        }
    }
    Ok(buckets)
}
