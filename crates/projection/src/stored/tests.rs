use agentsync_events::{SubRecordKind, interpret};

use super::*;

fn versioned<T>(time: i64, event_id: &str, value: T) -> Versioned<T> {
    Versioned {
        stamp: Stamp {
            time,
            event_id: event_id.to_owned(),
        },
        value,
    }
}

/// A profile object, as the interpreter keeps it.
fn profile(text: &str) -> RawObject {
    let body = format!(r#"{{"id":"e","type":"id.producer.updated","data":{text}}}"#);
    match interpret(body.as_bytes()).outcome {
        Ok(agentsync_events::EventKind::ProfileUpdated { profile }) => profile,
        other => panic!("not a profile update: {other:?}"),
    }
}

/// A state with every field set.
fn full_state() -> ProducerState {
    let mut state = ProducerState {
        status: Some(versioned(20, "e2", Status::Active)),
        last_activated_at: Some(20),
        last_deactivated_at: Some(15),
        first_event_at: Some(10),
        last_event_at: Some(31),
        event_count: 4,
        profile: Some(versioned(
            10,
            "e1",
            profile(r#"{"npn":"7", "firstName":"Ada"}"#),
        )),
        deleted: Some(versioned(10, "e1", false)),
        ..ProducerState::default()
    };
    let phones = state.sub_records.of_mut(SubRecordKind::Phone);
    phones.insert("ph_1".to_owned(), versioned(30, "e3", None));
    phones.insert("ph_2".to_owned(), versioned(31, "e4", Some(41)));
    state
}

#[test]
fn a_row_holds_each_fact_once_in_readable_columns_and_named_fields() {
    let row = encode_row(3, "7", &full_state(), 41).expect("encodes");
    assert_eq!(
        row,
        ProducerRow {
            generation: 3,
            npn: "7".to_owned(),
            status: "ACTIVE".to_owned(),
            last_activated_at: Some(20),
            last_deactivated_at: Some(15),
            first_event_at: Some(10),
            last_event_at: Some(31),
            event_count: 4,
            deleted: false,
            profile: Some(r#"{"npn":"7", "firstName":"Ada"}"#.to_owned()),
            fold_state: concat!(
                r#"{"status_set_by":{"time":20,"event_id":"e2"},"#,
                r#""profile_set_by":{"time":10,"event_id":"e1"},"#,
                r#""deleted_set_by":{"time":10,"event_id":"e1"},"#,
                r#""sub_records":{"phone":{"ph_1":{"time":30,"event_id":"e3","value":null},"#,
                r#""ph_2":{"time":31,"event_id":"e4","value":41}}}}"#
            )
            .to_owned(),
            last_position: 41,
        }
    );
    assert_eq!(decode_state(&row).expect("decodes"), full_state());
}

#[test]
fn a_producer_never_activated_is_stored_inactive_and_reads_back_without_a_status() {
    let state = ProducerState {
        event_count: 1,
        last_event_at: Some(5),
        first_event_at: Some(5),
        ..ProducerState::default()
    };
    let row = encode_row(1, "8", &state, 3).expect("encodes");
    assert_eq!(row.status, "INACTIVE");
    assert_eq!(row.profile, None);
    assert_eq!(row.fold_state, r#"{"sub_records":{}}"#);
    assert_eq!(decode_state(&row).expect("decodes"), state);
}

#[test]
fn a_row_of_fold_version_5_reads_as_the_state_it_held() {
    let mut row = encode_row(1, "7", &ProducerState::default(), 41).expect("encodes");
    row.fold_state = concat!(
        r#"{"s":[20,"e2","Active"],"a":20,"d":15,"f":10,"l":31,"n":4,"#,
        r#""p":[10,"e1",{"npn":"7", "firstName":"Ada"}],"x":[10,"e1",false],"#,
        r#""r":{"phone":{"ph_1":[30,"e3",null],"ph_2":[31,"e4",41]}}}"#
    )
    .to_owned();
    assert_eq!(decode_state(&row).expect("decodes"), full_state());
}

#[test]
fn a_corrupt_fold_state_is_an_error() {
    let mut row = encode_row(1, "7", &full_state(), 41).expect("encodes");
    for text in [
        "",
        "42",
        r#"{"status_set_by":{"time":"x"}}"#,
        r#"{"n":"many"}"#,
    ] {
        row.fold_state = text.to_owned();
        assert!(decode_state(&row).is_err(), "{text}");
    }
}
