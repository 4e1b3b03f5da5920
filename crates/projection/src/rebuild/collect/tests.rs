use std::collections::BTreeMap;

use proptest::prelude::*;

use event_store::{RowContent, StoredColumns};

use super::*;
use crate::fold::{fold_owned, merge_global};
use crate::rebuild::by_producer::ByProducer;
use crate::state::ProducerState;

/// A body of one of the kinds the fold treats differently, for NPN `npn`.
fn body(kind: u8, npn: u64, time: u8, id: usize) -> String {
    let (event_type, data) = match kind % 9 {
        0 => (
            "producersync.npn.activated",
            format!(r#"{{"npn":"{npn}"}}"#),
        ),
        1 => (
            "producersync.npn.deactivated",
            format!(r#"{{"npn":{npn}}}"#),
        ),
        2 => (
            "id.producer.updated",
            format!(r#"{{"npn":"{npn}","firstName":"F{id}"}}"#),
        ),
        3 => ("id.producer.deleted", format!(r#"{{"npn":"{npn}"}}"#)),
        4 => (
            "id.producer.phone.updated",
            format!(r#"{{"npn":"{npn}","id":"ph_{}","number":"{id}"}}"#, id % 3),
        ),
        5 => (
            "id.producer.address.deleted",
            format!(r#"{{"npn":"{npn}","id":"ad_{}"}}"#, id % 3),
        ),
        6 => ("contract.updated", format!(r#"{{"npn":"{npn}"}}"#)),
        7 => (
            "producersync.updates_available",
            format!(r#"{{"runDate":"2025-07-0{}"}}"#, time % 9 + 1),
        ),
        _ => return "not json".to_owned(),
    };
    format!(
        r#"{{"id":"e{:03}","type":"{event_type}","timestamp":"2025-07-23T10:00:0{}Z","data":{data}}}"#,
        (id * 37) % 101,
        time % 10
    )
}

/// Log entries as a rebuild reads them: the NPN column is what ingest
/// stored (none for `updates_available`).
fn entries(items: &[(u8, u64, u8)]) -> Vec<RebuildRow> {
    items
        .iter()
        .enumerate()
        .map(|(n, &(kind, npn, time))| RebuildRow {
            position: n as i64 + 1,
            npn: (kind % 9 != 7).then(|| npn.to_string()),
            received_at: 1_000 + n as i64,
            content: RowContent::Body(body(kind, npn, time, n).into_bytes()),
        })
        .collect()
}

/// The entries as the store hands them to a rebuild: those `pick`s whose
/// columns would suffice come as the columns ingest stored.
fn as_read(entries: &[RebuildRow], pick: impl Fn(usize) -> bool) -> Vec<RebuildRow> {
    let mut read = entries.to_vec();
    for (n, row) in read.iter_mut().enumerate() {
        let RowContent::Body(body) = &row.content else {
            continue;
        };
        let interpretation = agentsync_events::interpret(body);
        let Some(event_type) = interpretation.event_type else {
            continue;
        };
        let Ok(kind) = &interpretation.outcome else {
            continue;
        };
        if pick(n) && kind.said_by_columns() {
            row.content = RowContent::Columns(StoredColumns::new(
                &event_type,
                &interpretation.event_id.unwrap_or_default(),
                interpretation.occurred_at,
                kind.record_id().unwrap_or_default().to_owned(),
            ));
        }
    }
    read
}

/// What folding the entries one after another into a table of states gives.
fn folded_in_turn(entries: &[RebuildRow]) -> (BTreeMap<u64, (ProducerState, i64)>, GlobalState) {
    let mut states: BTreeMap<u64, (ProducerState, i64)> = BTreeMap::new();
    let mut global = GlobalState::default();
    for entry in entries {
        let RowContent::Body(body) = &entry.content else {
            panic!("folded in turn from bodies");
        };
        let event = FoldEvent::from_body(entry.position, body, entry.received_at);
        if let Some(event) = &event {
            global = fold_global(global, event);
        }
        let Some(npn) = &entry.npn else { continue };
        let slot = states.entry(npn.parse().expect("digits")).or_default();
        slot.1 = slot.1.max(entry.position);
        if let Some(event) = event {
            slot.0 = fold_owned(std::mem::take(&mut slot.0), event);
        }
    }
    states.retain(|_, (state, _)| state.event_count > 0);
    (states, global)
}

/// What collecting the entries on `threads` threads, in pages of `page`,
/// and folding by producer gives.
fn collected(
    entries: &[RebuildRow],
    threads: usize,
    page: usize,
) -> (BTreeMap<u64, (ProducerState, i64)>, GlobalState, i64) {
    let mut parts: Vec<CollectedPart> = (0..threads).map(|_| CollectedPart::new(0)).collect();
    // Each thread reads every `threads`-th page, as the rebuild's ranges do.
    for (index, page) in entries.chunks(page).enumerate() {
        parts[index % threads]
            .collect_page(page)
            .expect("numeric NPNs");
    }
    parts.iter_mut().for_each(CollectedPart::sort);
    let read = parts.iter().map(|part| part.entries_read).sum();
    let global = parts.iter().fold(GlobalState::default(), |global, part| {
        merge_global(global, part.global.clone())
    });
    let folded: Vec<_> = ByProducer::new(&mut parts).collect();
    assert!(
        folded.windows(2).all(|w| w[0].npn < w[1].npn),
        "producers in NPN order, once each"
    );
    let states = folded
        .into_iter()
        .map(|folded| (folded.npn, (folded.state, folded.last_position)))
        .collect();
    (states, global, read)
}

proptest! {
    #[test]
    fn collecting_then_folding_by_producer_equals_folding_in_turn(
        items in prop::collection::vec((0u8..9, 1_000u64..1_006, 0u8..6), 0..80),
        threads in 1usize..4,
        page in 1usize..20,
        columns_of in prop::collection::vec(any::<bool>(), 80),
    ) {
        let entries = entries(&items);
        let read_as = as_read(&entries, |n| columns_of[n]);
        let (states, global, read) = collected(&read_as, threads, page);
        let (expected, expected_global) = folded_in_turn(&entries);
        prop_assert_eq!(states, expected);
        prop_assert_eq!(global, expected_global);
        prop_assert_eq!(read, entries.len() as i64);
    }
}

#[test]
fn an_entry_stored_under_a_non_normalised_npn_is_reported_not_skipped() {
    for stored in ["12a", "+5", "0042", "", "99999999999999999999"] {
        let mut entries = entries(&[(0, 1_000, 1)]);
        entries[0].npn = Some(stored.to_owned());
        let mut part = CollectedPart::new(1);
        let error = part
            .collect_page(&entries)
            .expect_err("a corrupt NPN column");
        assert!(
            error.to_string().contains(&format!("{stored:?}")),
            "{error}"
        );
    }
    let mut entries = entries(&[(0, 0, 1)]);
    entries[0].npn = Some("0".to_owned());
    let mut part = CollectedPart::new(1);
    part.collect_page(&entries).expect("0 is a normalised NPN");
    assert_eq!(part.records()[0].npn, 0);
}
