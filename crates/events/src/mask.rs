//! The one list of sensitive payload keys, and how their values are masked.
//!
//! The log keeps payloads exactly as received; every way out (GraphQL,
//! logs) passes values through [`mask_value`] first.

use serde_json::Value;

/// Payload keys whose values are never shown in full. Compared without case
/// and without `_` / `-`, so `routing_number` and `routingNumber` both match.
pub const SENSITIVE_KEYS: &[&str] = &[
    "accountnumber",
    "bankaccountnumber",
    "routingnumber",
    "abanumber",
    "iban",
    "ssn",
    "socialsecuritynumber",
    "taxid",
    "tin",
    "ein",
    "dateofbirth",
    "dob",
    "birthdate",
];

/// How many trailing characters a masked value may still show.
const VISIBLE_SUFFIX: usize = 4;

/// Whether values under this key must be masked.
pub fn is_sensitive_key(key: &str) -> bool {
    let folded: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    SENSITIVE_KEYS.contains(&folded.as_str())
}

/// Masks one value's text: `•` for every character but the last four, and
/// for all of them when the text is four characters or shorter.
pub fn mask_text(text: &str) -> String {
    let count = text.chars().count();
    let visible = if count > VISIBLE_SUFFIX {
        VISIBLE_SUFFIX
    } else {
        0
    };
    let hidden = count - visible;
    let suffix: String = text.chars().skip(hidden).collect();
    format!("{}{suffix}", "•".repeat(hidden.max(1)))
}

/// Masks every sensitive key's value, at any depth, in place.
pub fn mask_value(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if is_sensitive_key(key) {
                    mask_leaf(child);
                } else {
                    mask_value(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        _ => {}
    }
}

fn mask_leaf(value: &mut Value) {
    let text = match value {
        Value::Null => return,
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => String::new(),
    };
    *value = Value::String(mask_text(&text));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_values_keep_at_most_four_characters() {
        let mut payload = json!({
            "npn": "19283746",
            "ssn": "123-45-6789",
            "dateOfBirth": "1980-12-10",
            "nested": [{"routing_number": 21000021, "accountNumber": "000123456789"}],
            "taxId": {"value": "98-7654321"},
            "tin": "12"
        });
        mask_value(&mut payload);
        assert_eq!(payload["npn"], "19283746");
        assert_eq!(payload["ssn"], "•••••••6789");
        assert_eq!(payload["dateOfBirth"], "••••••2-10");
        assert_eq!(payload["nested"][0]["routing_number"], "••••0021");
        assert_eq!(payload["nested"][0]["accountNumber"], "••••••••6789");
        assert_eq!(payload["taxId"], "•");
        assert_eq!(payload["tin"], "••");
        let text = payload.to_string();
        for secret in ["123-45", "1980-12", "00012345", "98-765"] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }

    #[test]
    fn key_matching_ignores_case_and_separators() {
        assert!(is_sensitive_key("Routing-Number"));
        assert!(is_sensitive_key("DATE_OF_BIRTH"));
        assert!(!is_sensitive_key("email"));
    }
}
