//! Random events in random order never make the fold panic, and every order
//! of the same set folds to the same state.
#![no_main]

use agentsync_events::{EventKind, RawObject, SubRecordKind};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use projection::{FoldEvent, Projection, Stamp};
use serde_json::{Map, Value};

#[derive(Arbitrary, Debug)]
struct RawEvent {
    npn: u8,
    time: i8,
    kind: u8,
    record: u8,
    value: u8,
}

fn event(index: usize, raw: &RawEvent) -> FoldEvent {
    let mut fields = Map::new();
    fields.insert("v".to_owned(), Value::from(raw.value));
    let fields = RawObject::from_map(&fields);
    let sub = SubRecordKind::ALL[usize::from(raw.record) % 4];
    let id = format!("r{}", raw.record % 3);
    let kind = match raw.kind % 8 {
        0 => EventKind::NpnActivated,
        1 => EventKind::NpnDeactivated,
        2 => EventKind::ProfileUpdated { profile: fields },
        3 => EventKind::ProfileDeleted,
        4 => EventKind::SubRecordUpdated { kind: sub, id },
        5 => EventKind::SubRecordDeleted { kind: sub, id },
        6 => EventKind::UpdatesAvailable { run_date: format!("d{}", raw.value) },
        _ => EventKind::HistoryOnly,
    };
    FoldEvent {
        position: index as i64 + 1,
        npn: (raw.kind % 8 != 6).then(|| format!("{}", raw.npn % 5)),
        stamp: Stamp { time: i64::from(raw.time), event_id: format!("e{index:05}") },
        kind,
    }
}

fn fold_all<'a>(events: impl Iterator<Item = &'a FoldEvent>) -> Projection {
    let mut projection = Projection::default();
    events.for_each(|e| projection.apply(e));
    projection
}

fuzz_target!(|input: (Vec<RawEvent>, Vec<u16>)| {
    let (raw, order) = input;
    let events: Vec<FoldEvent> = raw.iter().enumerate().map(|(i, r)| event(i, r)).collect();
    let forward = fold_all(events.iter());
    assert_eq!(fold_all(events.iter().rev()), forward);
    let mut shuffled: Vec<&FoldEvent> = events.iter().collect();
    for (i, swap) in order.iter().enumerate() {
        if shuffled.len() > 1 {
            let (a, b) = (i % shuffled.len(), usize::from(*swap) % shuffled.len());
            shuffled.swap(a, b);
        }
    }
    assert_eq!(fold_all(shuffled.into_iter()), forward);
});
