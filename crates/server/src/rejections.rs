//! Refused deliveries, counted by hour and reason in memory and flushed to
//! the store every second. Counting never writes to the database on the
//! request path, so a flood of forgeries costs no more than its parsing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_store::{RejectionCount, Store};

/// One hour in microseconds.
const HOUR_MICROS: i64 = 3_600_000_000;

/// Start of the hour (µs) and the error code.
type HourAndReason = (i64, String);
/// How many, and the latest (µs).
type CountAndLatest = (i64, i64);

/// Pending counts by (hour start, reason).
#[derive(Default, Clone)]
pub struct RejectionRecorder {
    pending: Arc<Mutex<HashMap<HourAndReason, CountAndLatest>>>,
}

impl RejectionRecorder {
    /// Counts one refusal of `reason` at `now` (µs since the epoch).
    pub fn record(&self, reason: &'static str, now: i64) {
        let hour_start = now - now.rem_euclid(HOUR_MICROS);
        if let Ok(mut pending) = self.pending.lock() {
            let slot = pending
                .entry((hour_start, reason.to_owned()))
                .or_insert((0, now));
            slot.0 += 1;
            slot.1 = slot.1.max(now);
        }
    }

    fn take(&self) -> Vec<RejectionCount> {
        let Ok(mut pending) = self.pending.lock() else {
            return Vec::new();
        };
        pending
            .drain()
            .map(|((hour_start, reason), (count, last_at))| RejectionCount {
                hour_start,
                reason,
                count,
                last_at,
            })
            .collect()
    }

    fn put_back(&self, counts: Vec<RejectionCount>) {
        let Ok(mut pending) = self.pending.lock() else {
            return;
        };
        for count in counts {
            let slot = pending
                .entry((count.hour_start, count.reason))
                .or_insert((0, count.last_at));
            slot.0 += count.count;
            slot.1 = slot.1.max(count.last_at);
        }
    }

    /// Writes pending counts to the store; on failure they wait for the
    /// next flush.
    pub async fn flush(&self, store: &Store) {
        let counts = self.take();
        if counts.is_empty() {
            return;
        }
        if let Err(error) = store.add_rejections(counts.clone()).await {
            tracing::warn!(error = %error, "rejection counts not flushed; will retry");
            self.put_back(counts);
        }
    }

    /// Flushes every `period` until the store is dropped.
    pub fn spawn_flusher(&self, store: Store, period: Duration) -> tokio::task::JoinHandle<()> {
        let recorder = self.clone();
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(period);
            loop {
                ticker.tick().await;
                recorder.flush(&store).await;
                crate::metrics::run_upkeep();
            }
        })
    }
}
