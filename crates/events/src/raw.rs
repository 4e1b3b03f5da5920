//! JSON objects kept as the text they arrived as.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::value::{RawValue, to_raw_value};
use serde_json::{Map, Value};

/// A JSON object (a profile, a sub-record's fields) kept as its text.
///
/// The fold stores these verbatim instead of as trees of maps: a rebuild
/// holds every producer's state in memory at once, where a map per object
/// costs several times the text, and writing a state back out copies the
/// text instead of encoding a tree. Readers parse it into a map where they
/// need its fields ([`RawObject::to_map`]).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RawObject(Box<RawValue>);

impl RawObject {
    /// Keeps `raw` (already known to be a JSON object) as it is.
    pub(crate) fn from_raw(raw: Box<RawValue>) -> Self {
        Self(raw)
    }

    /// The object's JSON text.
    pub fn as_json(&self) -> &str {
        self.0.get()
    }

    /// The object's fields. An object whose text serde_json cannot
    /// represent as a map reads as empty; [`crate::interpret`] sends every
    /// body whose text a strict parse might refuse (escapes, deep nesting,
    /// numbers beyond `f64`) through one first, so an interpreted event's
    /// objects always read whole.
    pub fn to_map(&self) -> Map<String, Value> {
        serde_json::from_str(self.0.get()).unwrap_or_default()
    }

    /// The text of `map`, for building events in code and tests.
    pub fn from_map(map: &Map<String, Value>) -> Self {
        // Serialising a map with string keys cannot fail.
        Self(to_raw_value(map).unwrap_or_default())
    }
}

impl PartialEq for RawObject {
    fn eq(&self, other: &Self) -> bool {
        self.as_json() == other.as_json()
    }
}

impl Eq for RawObject {}

impl fmt::Debug for RawObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_json())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_map_round_trips_through_its_text() {
        let Value::Object(map) = json!({"b": 1, "a": "x"}) else {
            unreachable!()
        };
        let raw = RawObject::from_map(&map);
        assert_eq!(raw.as_json(), r#"{"a":"x","b":1}"#);
        assert_eq!(raw.to_map(), map);
    }

    #[test]
    fn serialises_verbatim_and_reads_back_equal() {
        // Keys out of order and odd spacing: a map would sort and compact
        // them; the raw text keeps them.
        let state = r#"{"profile":{"z": 1,   "a":[1, 2]}}"#;
        #[derive(Serialize, Deserialize)]
        struct Holder {
            profile: RawObject,
        }
        let holder: Holder = serde_json::from_str(state).expect("a state");
        assert_eq!(holder.profile.as_json(), r#"{"z": 1,   "a":[1, 2]}"#);
        assert_eq!(serde_json::to_string(&holder).ok().as_deref(), Some(state));
        let written = serde_json::to_string(&holder).expect("written");
        let again: Holder = serde_json::from_str(&written).expect("a state");
        assert_eq!(again.profile, holder.profile);
    }
}
