//! Time travel: the state as it was at a past moment, by folding the log up
//! to it. Pure, like the fold it reuses.

use agentsync_events::{EventKind, NPN_ACTIVATED, NPN_DEACTIVATED};
use event_store::KeyedEntry;

use crate::event::FoldEvent;
use crate::fold::Projection;
use crate::state::{Stamp, Status};

/// The types that decide who is active.
pub const STATUS_TYPES: [&str; 2] = [NPN_ACTIVATED, NPN_DEACTIVATED];

/// A status event from its key columns (no body needed).
pub fn status_event(entry: &KeyedEntry) -> Option<FoldEvent> {
    let kind = match entry.event_type.as_str() {
        NPN_ACTIVATED => EventKind::NpnActivated,
        NPN_DEACTIVATED => EventKind::NpnDeactivated,
        _ => return None,
    };
    Some(FoldEvent {
        position: entry.position,
        npn: Some(entry.npn.clone()?),
        stamp: Stamp {
            time: entry.time,
            event_id: entry.event_id.clone().unwrap_or_default(),
        },
        kind,
    })
}

/// Every NPN active after folding `events`, sorted.
pub fn active_npns(events: &[FoldEvent]) -> Vec<String> {
    let mut projection = Projection::default();
    events.iter().for_each(|event| projection.apply(event));
    projection
        .producers
        .into_iter()
        .filter(|(_, state)| state.current_status() == Status::Active)
        .map(|(npn, _)| npn)
        .collect()
}

/// The number of active producers at each of `bucket_ends` (ascending, µs):
/// after folding every event whose time is at most that end. Folds each
/// event once, keeping a running count.
pub fn active_count_series(mut events: Vec<FoldEvent>, bucket_ends: &[i64]) -> Vec<u64> {
    events.sort_by(|a, b| a.stamp.cmp(&b.stamp));
    let mut projection = Projection::default();
    let mut active: u64 = 0;
    let mut next = events.iter().peekable();
    bucket_ends
        .iter()
        .map(|&end| {
            while let Some(event) = next.next_if(|event| event.stamp.time <= end) {
                let was_active = is_active(&projection, event);
                projection.apply(event);
                match (was_active, is_active(&projection, event)) {
                    (false, true) => active += 1,
                    (true, false) => active -= 1,
                    _ => {}
                }
            }
            active
        })
        .collect()
}

fn is_active(projection: &Projection, event: &FoldEvent) -> bool {
    event
        .npn
        .as_ref()
        .and_then(|npn| projection.producers.get(npn))
        .is_some_and(|state| state.current_status() == Status::Active)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(event_type: &str, npn: &str, time: i64, id: &str) -> KeyedEntry {
        KeyedEntry {
            position: time,
            event_type: event_type.to_owned(),
            npn: Some(npn.to_owned()),
            event_id: Some(id.to_owned()),
            time,
        }
    }

    #[test]
    fn series_counts_the_population_at_each_bucket_end() {
        let events: Vec<FoldEvent> = [
            keyed(NPN_ACTIVATED, "1", 10, "a"),
            keyed(NPN_ACTIVATED, "2", 15, "b"),
            keyed(NPN_DEACTIVATED, "1", 25, "c"),
            keyed(NPN_ACTIVATED, "1", 5, "d"),
        ]
        .iter()
        .filter_map(status_event)
        .collect();
        assert_eq!(
            active_count_series(events.clone(), &[0, 10, 20, 30]),
            vec![0, 1, 2, 1]
        );
        assert_eq!(active_npns(&events), vec!["2".to_owned()]);
    }
}
