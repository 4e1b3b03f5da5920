//! National Producer Numbers: the key every producer is folded under.

use serde_json::Value;

/// Why `data.npn` could not be used as a producer key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NpnError {
    /// Not a string of digits nor a non-negative integer.
    #[error("data.npn is not a digit string or a non-negative integer")]
    NotDigits,
}

/// The longest NPN we accept; NIPR issues up to 10 digits.
const MAX_NPN_DIGITS: usize = 10;

/// Normalises `data.npn` (a string or a JSON number) to its digit string, so
/// `"0019283746"`, `" 19283746 "` and `19283746` name the same producer.
/// Leading zeros are dropped because a JSON number cannot carry them.
pub fn normalise_npn(value: &Value) -> Result<String, NpnError> {
    match value {
        Value::String(text) => normalise_npn_text(text),
        Value::Number(number) => {
            normalise_npn_text(&number.as_u64().ok_or(NpnError::NotDigits)?.to_string())
        }
        _ => Err(NpnError::NotDigits),
    }
}

/// [`normalise_npn`] of a JSON string's value.
pub fn normalise_npn_text(text: &str) -> Result<String, NpnError> {
    let digits = text.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NpnError::NotDigits);
    }
    let trimmed = digits.trim_start_matches('0');
    let normalised = if trimmed.is_empty() { "0" } else { trimmed };
    if normalised.len() > MAX_NPN_DIGITS {
        return Err(NpnError::NotDigits);
    }
    Ok(normalised.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_numbers_name_the_same_producer() {
        for value in [json!("19283746"), json!(" 0019283746 "), json!(19283746)] {
            assert_eq!(normalise_npn(&value), Ok("19283746".to_owned()), "{value}");
        }
    }

    #[test]
    fn non_digits_are_refused() {
        for value in [
            json!(""),
            json!("12a"),
            json!(-5),
            json!(1.5),
            json!(null),
            json!("12345678901"),
        ] {
            assert_eq!(normalise_npn(&value), Err(NpnError::NotDigits), "{value}");
        }
    }
}
