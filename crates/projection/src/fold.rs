//! The fold: pure, deterministic, independent of arrival order.

use std::collections::BTreeMap;

use agentsync_events::{EventKind, SubRecordKind};

use crate::event::FoldEvent;
use crate::state::{
    GlobalState, PayloadAt, ProducerState, Stamp, Status, SubRecordsById, Versioned,
    last_writer_wins,
};

/// The version of the fold code. Bump it whenever [`fold`] changes what it
/// produces, or states are stored differently: a service that finds a
/// projection built by another version rebuilds it at start. 3: stamps are
/// stored as `[time, event_id, value]` and absent fields are left out. 4:
/// sub-records' fields are referred to by log position ([`PayloadAt`]),
/// not copied. 5: a state's fields are stored under one-letter names. 6:
/// readable rows: typed columns, and named fields in `fold_state`
/// ([`crate::stored`]).
pub const FOLD_VERSION: i32 = 6;

/// Folds one event into one producer's state.
pub fn fold(state: ProducerState, event: &FoldEvent) -> ProducerState {
    fold_owned(state, event.clone())
}

/// [`fold`], taking the event: its profile or sub-record id moves into the
/// state instead of being copied (what a rebuild folds, event after event).
pub fn fold_owned(mut state: ProducerState, event: FoldEvent) -> ProducerState {
    let stamp = &event.stamp;
    let time = stamp.time;
    state.event_count += 1;
    state.first_event_at = Some(state.first_event_at.map_or(time, |t| t.min(time)));
    state.last_event_at = Some(state.last_event_at.map_or(time, |t| t.max(time)));
    match event.kind {
        EventKind::NpnActivated => {
            last_writer_wins(&mut state.status, stamp, Status::Active);
            state.last_activated_at = Some(state.last_activated_at.map_or(time, |t| t.max(time)));
        }
        EventKind::NpnDeactivated => {
            last_writer_wins(&mut state.status, stamp, Status::Inactive);
            state.last_deactivated_at =
                Some(state.last_deactivated_at.map_or(time, |t| t.max(time)));
        }
        EventKind::ProfileUpdated { profile } => {
            last_writer_wins(&mut state.profile, stamp, profile);
            last_writer_wins(&mut state.deleted, stamp, false);
        }
        EventKind::ProfileDeleted => last_writer_wins(&mut state.deleted, stamp, true),
        EventKind::SubRecordUpdated { kind, id } => {
            set_sub_record(&mut state, kind, id, stamp, Some(event.position));
        }
        EventKind::SubRecordDeleted { kind, id } => {
            set_sub_record(&mut state, kind, id, stamp, None);
        }
        EventKind::UpdatesAvailable { .. } | EventKind::HistoryOnly => {}
    }
    state
}

/// Sets the sub-record `id` of one kind to `value` (`None`: a tombstone)
/// unless it already holds a newer one.
fn set_sub_record(
    state: &mut ProducerState,
    kind: SubRecordKind,
    id: String,
    stamp: &Stamp,
    value: Option<PayloadAt>,
) {
    let records = state.sub_records.of_mut(kind);
    if records.is_empty() {
        // Most producers have one record of a kind: room for one, not four.
        *records = SubRecordsById::with_capacity(1);
    }
    if records
        .get(&id)
        .is_none_or(|current| *stamp > current.stamp)
    {
        records.insert(
            id,
            Versioned {
                stamp: stamp.clone(),
                value,
            },
        );
    }
}

/// Folds one event into the global facts.
pub fn fold_global(mut global: GlobalState, event: &FoldEvent) -> GlobalState {
    if let EventKind::UpdatesAvailable { run_date } = &event.kind {
        last_writer_wins(&mut global.run_date, &event.stamp, run_date.clone());
    }
    global
}

/// The global facts of two disjoint sets of events, each folded on its own:
/// what folding them all would give (each fact is last-writer-wins, so
/// the order does not matter). A rebuild folds each share of the log on its
/// own and merges the shares' facts.
pub fn merge_global(mut global: GlobalState, other: GlobalState) -> GlobalState {
    if let Some(run_date) = other.run_date {
        last_writer_wins(&mut global.run_date, &run_date.stamp, run_date.value);
    }
    global
}

/// A whole projection in memory: what a rebuild fills, and what the
/// property tests compare.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Projection {
    /// Producer states by NPN.
    pub producers: BTreeMap<String, ProducerState>,
    /// Global facts.
    pub global: GlobalState,
}

impl Projection {
    /// Folds one event in: into its producer's state when it names one, and
    /// into the global facts.
    pub fn apply(&mut self, event: &FoldEvent) {
        self.global = fold_global(std::mem::take(&mut self.global), event);
        if let Some(npn) = &event.npn {
            let state = self.producers.entry(npn.clone()).or_default();
            *state = fold(std::mem::take(state), event);
        }
    }
}

#[cfg(test)]
mod tests;
