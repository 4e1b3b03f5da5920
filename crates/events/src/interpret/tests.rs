use super::*;
use proptest::prelude::*;
use serde_json::{Map, json};

fn interpret_json(value: Value) -> Interpretation {
    interpret(value.to_string().as_bytes())
}

#[test]
fn activated_event_is_understood_with_its_keys() {
    let parsed = interpret_json(json!({
        "id": "whe_1", "type": "producersync.npn.activated",
        "timestamp": "2025-07-24T22:51:05.206Z", "data": {"npn": 19283746}
    }));
    assert_eq!(parsed.event_id.as_deref(), Some("whe_1"));
    assert_eq!(parsed.npn.as_deref(), Some("19283746"));
    assert_eq!(parsed.occurred_at, Some(1_753_397_465_206_000));
    assert_eq!(parsed.outcome, Ok(EventKind::NpnActivated));
}

#[test]
fn timestamps_with_and_without_fraction_or_offset() {
    assert_eq!(
        parse_timestamp_micros("2025-07-24T22:51:05Z"),
        Some(1_753_397_465_000_000)
    );
    assert_eq!(
        parse_timestamp_micros("2025-07-24T22:51:05.5+00:00"),
        Some(1_753_397_465_500_000)
    );
    assert_eq!(
        parse_timestamp_micros("2025-07-24T22:51:05"),
        Some(1_753_397_465_000_000)
    );
    assert_eq!(parse_timestamp_micros("yesterday"), None);
}

#[test]
fn absent_timestamp_is_allowed() {
    let parsed =
        interpret_json(json!({"id": "e", "type": "id.producer.deleted", "data": {"npn": "1"}}));
    assert_eq!(parsed.occurred_at, None);
    assert_eq!(parsed.outcome, Ok(EventKind::ProfileDeleted));
}

#[test]
fn portal_test_messages_are_test_deliveries_not_events() {
    for body in [
        br#"{"success": true}"#.to_vec(),
        br#"{"success":true}"#.to_vec(),
        br#"{"id":"msg_1","type":"svix.ping","data":{"success":true}}"#.to_vec(),
    ] {
        assert_eq!(
            interpret(&body).outcome,
            Err(NotUnderstood::TestDelivery),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
    // Anything else stays what it was.
    for (body, reason) in [
        (json!({"success": false}), NotUnderstood::NotAnEnvelope),
        (
            json!({"success": true, "x": 1}),
            NotUnderstood::NotAnEnvelope,
        ),
        (
            json!({"id": "e", "type": "svix.other", "data": {}}),
            NotUnderstood::UnknownType,
        ),
    ] {
        assert_eq!(interpret_json(body).outcome, Err(reason));
    }
    assert_eq!(NotUnderstood::TestDelivery.code(), TEST_DELIVERY);
    assert_eq!(
        NotUnderstood::from_code(TEST_DELIVERY),
        Some(NotUnderstood::TestDelivery)
    );
}

#[test]
fn each_reason_is_reported() {
    let cases = [
        (json!([1, 2]), NotUnderstood::NotAnEnvelope),
        (
            json!({"type": "producersync.npn.activated"}),
            NotUnderstood::NotAnEnvelope,
        ),
        (
            json!({"id": "e", "type": "x.y", "data": {}}),
            NotUnderstood::UnknownType,
        ),
        (
            json!({"id": "e", "type": "producersync.npn.activated", "timestamp": "soon", "data": {"npn": "1"}}),
            NotUnderstood::InvalidTimestamp,
        ),
        (
            json!({"id": "e", "type": "producersync.npn.activated", "data": "npn"}),
            NotUnderstood::DataNotObject,
        ),
        (
            json!({"id": "e", "type": "producersync.npn.activated", "data": {}}),
            NotUnderstood::MissingNpn,
        ),
        (
            json!({"id": "e", "type": "producersync.npn.activated", "data": {"npn": "x1"}}),
            NotUnderstood::InvalidNpn,
        ),
        (
            json!({"id": "e", "type": "id.producer.phone.updated", "data": {"npn": "1"}}),
            NotUnderstood::MissingRecordId,
        ),
        (
            json!({"id": "e", "type": "producersync.updates_available", "data": {}}),
            NotUnderstood::MissingRunDate,
        ),
    ];
    for (body, reason) in cases {
        assert_eq!(interpret_json(body.clone()).outcome, Err(reason), "{body}");
        assert_eq!(NotUnderstood::from_code(reason.code()), Some(reason));
    }
    assert_eq!(interpret(b"not json").outcome, Err(NotUnderstood::NotJson));
}

#[test]
fn unknown_types_keep_their_keys_for_dedup() {
    let parsed = interpret_json(json!({"id": "e9", "type": "brand.new", "data": {"npn": "42"}}));
    assert_eq!(parsed.event_id.as_deref(), Some("e9"));
    assert_eq!(parsed.event_type.as_deref(), Some("brand.new"));
    assert_eq!(parsed.npn.as_deref(), Some("42"));
    assert_eq!(parsed.outcome, Err(NotUnderstood::UnknownType));
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let whole = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    // Beyond the parser's depth limit inside `data`, which is otherwise
    // kept as text without being parsed.
    let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
    let in_data =
        format!(r#"{{"id":"e","type":"id.producer.updated","data":{{"npn":"1","x":{deep}}}}}"#);
    for body in [whole, in_data] {
        assert_eq!(
            interpret(body.as_bytes()).outcome,
            Err(NotUnderstood::NotJson)
        );
    }
}

#[test]
fn sub_record_events_carry_their_id() {
    let parsed = interpret_json(json!({
        "id": "e", "type": "id.producer.address.deleted", "data": {"npn": "7", "id": "addr_1"}
    }));
    assert_eq!(
        parsed.outcome,
        Ok(EventKind::SubRecordDeleted {
            kind: crate::SubRecordKind::Address,
            id: "addr_1".into()
        })
    );
}

#[test]
fn a_repeated_key_takes_its_last_value_like_a_strict_parse() {
    let body = br#"{"id":"a","type":"id.producer.deleted","id":"b","data":{"npn":"1","npn":"2"}}"#;
    let parsed = interpret(body);
    assert_eq!(parsed.event_id.as_deref(), Some("b"));
    assert_eq!(parsed.npn.as_deref(), Some("2"));
    assert_eq!(parsed.outcome, Ok(EventKind::ProfileDeleted));
}

#[test]
fn escapes_are_decoded_and_lone_surrogates_refused() {
    let body = br#"{"id":"e\u0031","type":"id.producer.updated","data":{"npn":"1","firstName":"Ren\u00e9e"}}"#;
    let parsed = interpret(body);
    assert_eq!(parsed.event_id.as_deref(), Some("e1"));
    let Ok(EventKind::ProfileUpdated { profile }) = parsed.outcome else {
        panic!("not a profile: {:?}", parsed.outcome);
    };
    assert_eq!(profile.to_map()["firstName"], "Renée");
    assert_eq!(record_payload(body), None);
    let lone = br#"{"id":"e","type":"id.producer.updated","data":{"npn":"1","x":"\ud800"}}"#;
    assert_eq!(interpret(lone).outcome, Err(NotUnderstood::NotJson));
}

#[test]
fn fields_without_escapes_are_read_in_place_and_escaped_ones_decoded() {
    // No `\u`: these bodies take the fast path, where an unescaped string
    // is borrowed from the body and an escaped one is decoded.
    let body = br#"{"id":"e\"1","type":"producersync.npn.activated","timestamp":"2025-07-24T22:51:05Z","data":{"npn":" 0042\t"}}"#;
    let parsed = interpret(body);
    assert_eq!(parsed.event_id.as_deref(), Some("e\"1"));
    assert_eq!(parsed.npn.as_deref(), Some("42"));
    assert_eq!(
        parsed.occurred_at,
        parse_timestamp_micros("2025-07-24T22:51:05Z")
    );
    assert_eq!(parsed.outcome, Ok(EventKind::NpnActivated));
    let plain = br#"{"id":"e2","type":"producersync.npn.activated","data":{"npn":"0042"}}"#;
    assert_eq!(interpret(plain).npn.as_deref(), Some("42"));
    let number = br#"{"id":"e3","type":"producersync.npn.activated","data":{"npn":42}}"#;
    assert_eq!(interpret(number).npn.as_deref(), Some("42"));
}

#[test]
fn null_fields_count_as_present() {
    let parsed = interpret_json(json!({
        "id": "e", "type": "producersync.npn.activated", "timestamp": null, "data": {"npn": null}
    }));
    assert_eq!(parsed.occurred_at, None);
    assert_eq!(parsed.outcome, Err(NotUnderstood::InvalidNpn));
    let no_data = interpret_json(json!({"id": "e", "type": "id.producer.deleted", "data": null}));
    assert_eq!(no_data.outcome, Err(NotUnderstood::DataNotObject));
}

/// The reading before raw fields: a strict parse into a tree, field by
/// field. Every body must read the same both ways.
/// What [`tree_reading`] finds: id, type, time, NPN, and `data` or why not.
type TreeReading = (
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Result<Option<Map<String, Value>>, NotUnderstood>,
);

fn tree_reading(body: &[u8]) -> TreeReading {
    let strict = serde_json::from_slice::<Value>(body);
    let Ok(Value::Object(envelope)) = strict else {
        let reason = if strict.is_ok() {
            NotUnderstood::NotAnEnvelope
        } else {
            NotUnderstood::NotJson
        };
        return (None, None, None, None, Err(reason));
    };
    let text = |value: Option<&Value>| value.and_then(Value::as_str).map(str::to_owned);
    let data = envelope.get("data");
    let npn_field = data.and_then(|data| data.get("npn"));
    let npn = npn_field.and_then(|npn| normalise_npn(npn).ok());
    let timestamp = envelope.get("timestamp").filter(|value| !value.is_null());
    let occurred_at = text(timestamp).and_then(|t| parse_timestamp_micros(&t));
    let (id, event_type) = (text(envelope.get("id")), text(envelope.get("type")));
    let outcome = match (&id, &event_type, data) {
        (Some(_), Some(_), _) if timestamp.is_some() && occurred_at.is_none() => {
            Err(NotUnderstood::InvalidTimestamp)
        }
        (Some(_), Some(t), data) => match (TypeShape::of(t), data) {
            (None, _) => Err(NotUnderstood::UnknownType),
            (Some(shape), Some(Value::Object(map)))
                if shape.needs_npn() && !map.contains_key("npn") =>
            {
                Err(NotUnderstood::MissingNpn)
            }
            (Some(shape), Some(Value::Object(_))) if shape.needs_npn() && npn.is_none() => {
                Err(NotUnderstood::InvalidNpn)
            }
            (Some(_), Some(Value::Object(map))) => Ok(Some(map.clone())),
            (Some(_), _) => Err(NotUnderstood::DataNotObject),
        },
        _ => Err(NotUnderstood::NotAnEnvelope),
    };
    (id, event_type, occurred_at, npn, outcome)
}

/// A placeholder string the generated envelopes replace by a number.
const NUMBER: &str = "@number";

/// Numbers as a sender may write them, some beyond what a strict parse
/// accepts (out of `f64`'s range).
static NUMBERS: std::sync::LazyLock<[String; 6]> = std::sync::LazyLock::new(|| {
    [
        "1e400".to_owned(),
        "-2.5E-3".to_owned(),
        "1e308".to_owned(),
        format!("1{}", "0".repeat(400)),
        "123456789012345678901234567890".to_owned(),
        "7".to_owned(),
    ]
});

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[a-z0-9 é\"\\\\]{0,6}".prop_map(Value::from),
        Just(Value::from("2025-07-24T22:51:05Z")),
        Just(Value::from("0012")),
        // Replaced by a number written as text (see `NUMBERS`).
        Just(Value::from(NUMBER)),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-c]|npn|id|runDate", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

fn envelope() -> impl Strategy<Value = String> {
    let event_type = prop_oneof![
        Just("id.producer.updated"),
        Just("id.producer.phone.updated"),
        Just("producersync.npn.activated"),
        Just("producersync.updates_available"),
        Just("brand.new"),
    ];
    let field = prop::collection::btree_map("id|type|timestamp|data|extra", json_value(), 0..5);
    (field, event_type, json_value(), any::<bool>(), any::<u8>()).prop_map(
        |(mut fields, event_type, data, typed, layout)| {
            if typed {
                fields.insert("type".to_owned(), Value::from(event_type));
                fields.insert("id".to_owned(), Value::from("e"));
                fields.insert("data".to_owned(), data);
            }
            let object = Value::Object(fields.clone().into_iter().collect());
            let text = match layout % 4 {
                0 => object.to_string(),
                // Keys in reverse order: `type` before `data`, which is
                // then read for its fields in the same pass.
                3 => format!(
                    "{{{}}}",
                    fields
                        .iter()
                        .rev()
                        .map(|(key, value)| format!("{}:{value}", Value::from(key.as_str())))
                        .collect::<Vec<_>>()
                        .join(",")
                ),
                1 => serde_json::to_string_pretty(&object).unwrap_or_default(),
                // A repeated key: the first occurrence is overridden.
                _ => format!(r#"{{"id": 7, {}"#, &object.to_string()[1..]),
            };
            let number = &NUMBERS[usize::from(layout) % NUMBERS.len()];
            text.replace(&format!("\"{NUMBER}\""), number)
        },
    )
}

proptest! {
    #[test]
    fn reading_raw_fields_agrees_with_a_strict_tree(body in envelope()) {
        let parsed = interpret(body.as_bytes());
        let (id, event_type, occurred_at, npn, outcome) = tree_reading(body.as_bytes());
        prop_assert_eq!(&parsed.event_id, &id, "{}", body);
        prop_assert_eq!(&parsed.event_type, &event_type);
        prop_assert_eq!(parsed.occurred_at, occurred_at);
        prop_assert_eq!(&parsed.npn, &npn);
        match (parsed.outcome, outcome) {
            (Err(reason), expected) => prop_assert!(expected.is_err_and(|e| e == reason) || matches!(reason, NotUnderstood::MissingRecordId | NotUnderstood::MissingRunDate), "{body}: {reason:?}"),
            (Ok(kind), Ok(Some(data))) => {
                let payload = record_payload(body.as_bytes()).map(|object| object.to_map());
                match kind {
                    EventKind::ProfileUpdated { profile } => {
                        prop_assert_eq!(&profile.to_map(), &data);
                        prop_assert_eq!(payload, None);
                    }
                    EventKind::SubRecordUpdated { .. } => prop_assert_eq!(payload, Some(data)),
                    _ => prop_assert_eq!(payload, None),
                }
            }
            (Ok(kind), expected) => prop_assert!(false, "{body}: {kind:?} but {expected:?}"),
        }
    }
}
