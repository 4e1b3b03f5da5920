use async_graphql::parser::parse_query;
use serde_json::json;

use super::*;

/// The key of `query` with these variables.
fn key(query: &str, variables: serde_json::Value) -> Option<String> {
    let document = parse_query(query).expect("a document");
    shape_key(query, &document, &Variables::from_json(variables))
}

#[test]
fn the_text_of_string_and_id_variables_does_not_change_the_key() {
    let query = "query($t: String!, $i: [ID], $n: String) { a }";
    let one = key(query, json!({ "t": "first", "i": ["a", null], "n": null }));
    let other = key(query, json!({ "t": "", "i": ["bb", null], "n": null }));
    assert!(one.is_some());
    assert_eq!(one, other);
    assert!(one.is_some_and(|key| key.starts_with(query)));
}

#[test]
fn numbers_enums_types_and_presence_change_the_key() {
    let query = "query($t: String, $f: Int, $c: Color) { a }";
    let base = key(query, json!({ "t": "x", "f": 1, "c": "RED" }));
    for other in [
        json!({ "t": "x", "f": 2, "c": "RED" }),
        json!({ "t": "x", "f": 1, "c": "BLUE" }),
        json!({ "t": 5, "f": 1, "c": "RED" }),
        json!({ "t": null, "f": 1, "c": "RED" }),
        json!({ "f": 1, "c": "RED" }),
    ] {
        let changed = key(query, other.clone());
        assert!(changed.is_some(), "{other}");
        assert_ne!(changed, base, "{other}");
    }
}

#[test]
fn the_same_variables_under_another_document_give_another_key() {
    let variables = json!({ "t": "x" });
    assert_ne!(
        key("query($t: String) { a(t: $t) }", variables.clone()),
        key("query($t: String) { b(t: $t) }", variables)
    );
}

#[test]
fn several_operations_and_oversized_keys_give_no_key() {
    assert_eq!(key("query A { a } query B { b }", json!({})), None);
    let long = "x".repeat(MAX_KEY_BYTES);
    assert_eq!(
        key("query($f: Int) { a }", json!({ "f": 1, "extra": long })),
        None
    );
}
