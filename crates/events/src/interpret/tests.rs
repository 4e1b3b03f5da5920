use super::*;
use serde_json::json;

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
    let body = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    assert_eq!(
        interpret(body.as_bytes()).outcome,
        Err(NotUnderstood::NotJson)
    );
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
