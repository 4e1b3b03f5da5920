use agentsync_events::{RawObject, SubRecordKind};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::*;
use crate::state::Stamp;

/// An event at log position `time` (each test's events have distinct times
/// or ids; the position only says where the payload is).
fn event(npn: &str, time: i64, id: &str, kind: EventKind) -> FoldEvent {
    FoldEvent {
        position: time,
        npn: Some(npn.to_owned()),
        stamp: Stamp {
            time,
            event_id: id.to_owned(),
        },
        kind,
    }
}

fn fields(value: Value) -> RawObject {
    match value {
        Value::Object(map) => RawObject::from_map(&map),
        _ => RawObject::from_map(&Map::new()),
    }
}

fn profile_update(first_name: &str) -> EventKind {
    EventKind::ProfileUpdated {
        profile: fields(json!({ "firstName": first_name })),
    }
}

fn fold_all(events: &[FoldEvent]) -> Projection {
    let mut projection = Projection::default();
    events.iter().for_each(|e| projection.apply(e));
    projection
}

#[test]
fn deactivation_arriving_first_but_occurring_later_ends_inactive() {
    let activated = event("1", 100, "a", EventKind::NpnActivated);
    let deactivated = event("1", 200, "b", EventKind::NpnDeactivated);
    let state = &fold_all(&[deactivated, activated]).producers["1"];
    assert_eq!(state.current_status(), Status::Inactive);
    assert_eq!(state.last_activated_at, Some(100));
    assert_eq!(state.last_deactivated_at, Some(200));
    assert_eq!(
        (state.first_event_at, state.last_event_at, state.event_count),
        (Some(100), Some(200), 2)
    );
}

#[test]
fn ties_on_time_are_broken_by_event_id() {
    let a = event("1", 100, "evt_b", EventKind::NpnActivated);
    let d = event("1", 100, "evt_a", EventKind::NpnDeactivated);
    assert_eq!(
        fold_all(&[a.clone(), d.clone()]).producers["1"].current_status(),
        Status::Active
    );
    assert_eq!(
        fold_all(&[d, a]).producers["1"].current_status(),
        Status::Active
    );
}

#[test]
fn a_late_older_profile_does_not_overwrite_a_newer_one() {
    let newer = event("1", 200, "n", profile_update("New"));
    let older = event("1", 100, "o", profile_update("Old"));
    let state = &fold_all(&[newer, older]).producers["1"];
    let profile = state
        .profile
        .as_ref()
        .map(|p| p.value.to_map()["firstName"].clone());
    assert_eq!(profile, Some(json!("New")));
    assert_eq!(state.event_count, 2);
}

#[test]
fn deletion_marks_the_profile_deleted_and_keeps_the_last_profile() {
    let update = event("1", 100, "u", profile_update("Ada"));
    let delete = event("1", 200, "d", EventKind::ProfileDeleted);
    let state = &fold_all(&[delete.clone(), update.clone()]).producers["1"];
    assert!(state.is_deleted());
    assert!(state.profile.is_some());
    let readded = event("1", 300, "r", profile_update("Ada"));
    assert!(!fold_all(&[update, delete, readded]).producers["1"].is_deleted());
}

#[test]
fn sub_records_are_keyed_by_their_own_id_and_tombstoned() {
    let kind = SubRecordKind::Phone;
    let p1 = event(
        "1",
        100,
        "a",
        EventKind::SubRecordUpdated {
            kind,
            id: "ph_1".into(),
        },
    );
    let p2 = event(
        "1",
        110,
        "b",
        EventKind::SubRecordUpdated {
            kind,
            id: "ph_2".into(),
        },
    );
    let del = event(
        "1",
        200,
        "c",
        EventKind::SubRecordDeleted {
            kind,
            id: "ph_1".into(),
        },
    );
    let late_update = event(
        "1",
        150,
        "d",
        EventKind::SubRecordUpdated {
            kind,
            id: "ph_1".into(),
        },
    );
    let p2_at = p2.position;
    let state = &fold_all(&[p1, del, p2, late_update]).producers["1"];
    let live: Vec<(&String, Option<i64>)> = state
        .live_sub_records(SubRecordKind::Phone)
        .map(|(id, record)| (id, record.value))
        .collect();
    assert_eq!(live, [(&"ph_2".to_owned(), Some(p2_at))]);
}

#[test]
fn run_date_is_a_global_fact() {
    let mut older = event(
        "x",
        100,
        "a",
        EventKind::UpdatesAvailable {
            run_date: "2025-07-23".into(),
        },
    );
    older.npn = None;
    let mut newer = event(
        "x",
        200,
        "b",
        EventKind::UpdatesAvailable {
            run_date: "2025-07-24".into(),
        },
    );
    newer.npn = None;
    let projection = fold_all(&[newer, older]);
    assert_eq!(
        projection.global.run_date.map(|r| r.value),
        Some("2025-07-24".to_owned())
    );
    assert!(projection.producers.is_empty());
}

fn kind_strategy() -> impl Strategy<Value = EventKind> {
    let sub_kind = prop::sample::select(SubRecordKind::ALL.to_vec());
    let record_id = prop::sample::select(vec!["r1", "r2", "r3"]);
    prop_oneof![
        Just(EventKind::NpnActivated),
        Just(EventKind::NpnDeactivated),
        Just(EventKind::ProfileDeleted),
        Just(EventKind::HistoryOnly),
        (0u8..4).prop_map(|n| profile_update(&format!("n{n}"))),
        (0u8..4).prop_map(|n| EventKind::UpdatesAvailable {
            run_date: format!("2025-07-0{n}")
        }),
        (sub_kind.clone(), record_id.clone()).prop_map(|(kind, id)| {
            EventKind::SubRecordUpdated {
                kind,
                id: id.to_owned(),
            }
        }),
        (sub_kind, record_id).prop_map(|(kind, id)| EventKind::SubRecordDeleted {
            kind,
            id: id.to_owned()
        }),
    ]
}

/// A set of distinct events (unique ids) over a few NPNs, with times drawn
/// from a small range so that ties happen often.
fn event_set() -> impl Strategy<Value = Vec<FoldEvent>> {
    prop::collection::vec((0u8..4, 0i64..6, kind_strategy()), 1..40).prop_map(|items| {
        items
            .into_iter()
            .enumerate()
            .map(|(n, (npn, time, kind))| {
                let npn = match kind {
                    EventKind::UpdatesAvailable { .. } => None,
                    _ => Some(format!("{}", 100 + npn)),
                };
                FoldEvent {
                    // Where the event is: it travels with the event when
                    // the set is shuffled, as a log entry's position does.
                    position: n as i64 + 1,
                    npn,
                    stamp: Stamp {
                        time,
                        event_id: format!("evt_{:03}", (n * 37) % 101),
                    },
                    kind,
                }
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn every_order_of_the_same_events_folds_to_the_same_state(
        events in event_set(),
        seed in any::<u64>(),
    ) {
        let expected = fold_all(&events);
        let mut shuffled = events.clone();
        // A seeded Fisher-Yates shuffle, so failures reproduce.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(fold_all(&shuffled), expected.clone());
        let mut reversed = events;
        reversed.reverse();
        prop_assert_eq!(fold_all(&reversed), expected);
    }

    #[test]
    fn merging_the_global_facts_of_two_halves_equals_folding_them_all(
        events in event_set(),
        split in any::<prop::sample::Index>(),
    ) {
        let (first, second) = events.split_at(split.index(events.len() + 1));
        let fold_globals = |events: &[FoldEvent]| {
            events.iter().fold(GlobalState::default(), fold_global)
        };
        prop_assert_eq!(
            merge_global(fold_globals(first), fold_globals(second)),
            fold_all(&events).global
        );
    }

    #[test]
    fn event_count_counts_each_event_once(events in event_set()) {
        let projection = fold_all(&events);
        let with_npn = events.iter().filter(|e| e.npn.is_some()).count() as u64;
        let counted: u64 = projection.producers.values().map(|p| p.event_count).sum();
        prop_assert_eq!(counted, with_npn);
    }
}
