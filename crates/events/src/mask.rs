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

/// Sensitive keys that hold dates: their values are always masked whole
/// (the last four characters of a date are the day and half the month).
const DATE_KEYS: &[&str] = &["dateofbirth", "dob", "birthdate"];

/// How many trailing characters a masked account-like number may still show.
const VISIBLE_SUFFIX: usize = 4;

/// The fewest digits an account-like number has: below it, showing four
/// would show most of it.
const ACCOUNT_MIN_DIGITS: usize = 8;

/// What a value masked whole becomes: always the same, so not even its
/// length shows.
const MASKED_WHOLE: &str = "••••";

/// The folded form keys are compared in: lower case, no `_` or `-`.
fn fold_key(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether values under this key must be masked.
pub fn is_sensitive_key(key: &str) -> bool {
    SENSITIVE_KEYS.contains(&fold_key(key).as_str())
}

/// Whether text is an account-like number: digits, with spaces or dashes
/// between groups, at least [`ACCOUNT_MIN_DIGITS`] digits. Only these keep
/// their last four digits visible (as a bank statement shows them).
fn is_account_like(text: &str) -> bool {
    if looks_like_iso_date(text) {
        return false;
    }
    let digits = text.chars().filter(char::is_ascii_digit).count();
    digits >= ACCOUNT_MIN_DIGITS
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || c == ' ' || c == '-')
}

/// `YYYY-MM-DD`, alone or at the start of a date-time: digits and dashes
/// like an account number, but its last four are the day and half the
/// month.
fn looks_like_iso_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() >= 10
        && bytes[..10]
            .iter()
            .enumerate()
            .all(|(index, byte)| match index {
                4 | 7 => *byte == b'-',
                _ => byte.is_ascii_digit(),
            })
}

/// Masks one sensitive value's text: an account-like number shows its last
/// four characters (`•` for every other one); anything else, a date above
/// all, is masked whole.
pub fn mask_text(text: &str) -> String {
    if !is_account_like(text) {
        return MASKED_WHOLE.to_owned();
    }
    let hidden = text.chars().count() - VISIBLE_SUFFIX;
    let suffix: String = text.chars().skip(hidden).collect();
    format!("{}{suffix}", "•".repeat(hidden))
}

/// A raw body as it may leave the service: parsed as JSON, every sensitive
/// key's value masked; `None` when the body is not JSON. Every reader that
/// shows a body goes through this, as every reader that folds one goes
/// through [`crate::interpret`].
pub fn masked_body(body: &[u8]) -> Option<Value> {
    let mut value = serde_json::from_slice(body).ok()?;
    mask_value(&mut value);
    Some(value)
}

/// Masks every sensitive key's value, at any depth, in place.
pub fn mask_value(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, child) in object.iter_mut() {
                if is_sensitive_key(key) {
                    mask_leaf(child, DATE_KEYS.contains(&fold_key(key).as_str()));
                } else {
                    mask_value(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_value),
        _ => {}
    }
}

/// Masks a sensitive key's value; a date key's is masked whole whatever it
/// looks like.
fn mask_leaf(value: &mut Value, is_date: bool) {
    let masked = match value {
        Value::Null => return,
        _ if is_date => MASKED_WHOLE.to_owned(),
        Value::String(text) => mask_text(text),
        Value::Number(number) => mask_text(&number.to_string()),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => MASKED_WHOLE.to_owned(),
    };
    *value = Value::String(masked);
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
            "tin": "12",
            "ein": "98-7654321",
            "iban": "DE89 3704 0044 0532 0130 00",
            "dob": 19801210,
            "birthDate": "12/10/1980"
        });
        mask_value(&mut payload);
        assert_eq!(payload["npn"], "19283746");
        assert_eq!(payload["ssn"], "•••••••6789");
        assert_eq!(payload["nested"][0]["routing_number"], "••••0021");
        assert_eq!(payload["nested"][0]["accountNumber"], "••••••••6789");
        assert_eq!(payload["ein"], "••••••4321");
        // Dates, and values that are not account-like numbers, are masked
        // whole, always to the same text.
        for key in ["dateOfBirth", "dob", "birthDate", "taxId", "tin", "iban"] {
            assert_eq!(payload[key], MASKED_WHOLE, "{key}");
        }
        let text = payload.to_string();
        for secret in [
            "123-45", "1980", "2-10", "00012345", "98-765", "DE89", "30 00",
        ] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }

    #[test]
    fn only_account_like_numbers_keep_their_last_four() {
        assert_eq!(mask_text("1234 5678 9012"), "••••••••••9012");
        for text in [
            "1980-12-10",
            "1980-12-10T00:00:00Z",
            "1234567",
            "abcdefgh12345678",
            "",
            "12",
        ] {
            assert_eq!(mask_text(text), MASKED_WHOLE, "{text}");
        }
    }

    #[test]
    fn key_matching_ignores_case_and_separators() {
        assert!(is_sensitive_key("Routing-Number"));
        assert!(is_sensitive_key("DATE_OF_BIRTH"));
        assert!(!is_sensitive_key("email"));
    }
}
