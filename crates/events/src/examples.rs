//! One example envelope per event type, as the AgentSync portal's
//! "Send Example" sends them. A copy of the shared examples file is embedded
//! so the binary can send them anywhere.

use serde::Deserialize;
use serde_json::Value;

/// The embedded examples file (a copy of `shared/events/agentsync-examples.json`).
pub const EXAMPLES_JSON: &str = include_str!("agentsync-examples.json");

/// One example: its envelope and whether its data shape is documented.
#[derive(Debug, Clone, Deserialize)]
pub struct Example {
    /// Whether AgentSync publishes this data shape (otherwise it is assumed).
    pub documented: bool,
    /// The example envelope.
    pub envelope: Value,
}

#[derive(Deserialize)]
struct ExamplesFile {
    events: Vec<Example>,
}

/// Why an example could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExampleError {
    /// No example of this type; the message lists the known ones.
    #[error("no example for type '{requested}'; known types: {known}")]
    UnknownType {
        /// The type asked for.
        requested: String,
        /// Every type with an example, comma-separated.
        known: String,
    },
}

/// Every embedded example, in file order.
pub fn examples() -> Vec<Example> {
    serde_json::from_str::<ExamplesFile>(EXAMPLES_JSON)
        .map(|file| file.events)
        .expect("the embedded examples file is valid (checked by a test)")
}

/// The event types that have an example.
pub fn example_types() -> Vec<String> {
    examples()
        .iter()
        .filter_map(|example| example.envelope["type"].as_str().map(str::to_owned))
        .collect()
}

/// The example envelope of `event_type` as body bytes, with a fresh event
/// `id` and `timestamp`, and `data.npn` replaced where the example has one.
pub fn render_example(
    event_type: &str,
    event_id: &str,
    timestamp: &str,
    npn: Option<&str>,
) -> Result<Vec<u8>, ExampleError> {
    let mut envelope = examples()
        .into_iter()
        .map(|example| example.envelope)
        .find(|envelope| envelope["type"] == event_type)
        .ok_or_else(|| ExampleError::UnknownType {
            requested: event_type.to_owned(),
            known: example_types().join(", "),
        })?;
    envelope["id"] = Value::from(event_id);
    envelope["timestamp"] = Value::from(timestamp);
    if let (Some(npn), Some(data)) = (npn, envelope.get_mut("data"))
        && data.get("npn").is_some()
    {
        data["npn"] = Value::from(npn);
    }
    Ok(serde_json::to_vec(&envelope).expect("a JSON value always serialises"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpret;

    #[test]
    fn every_example_is_understood() {
        let types = example_types();
        assert_eq!(types.len(), 15);
        for event_type in types {
            let body = render_example(&event_type, "whe_t", "2025-07-24T22:51:05Z", Some("42"))
                .expect("known type");
            let parsed = interpret(&body);
            assert!(parsed.outcome.is_ok(), "{event_type}: {:?}", parsed.outcome);
            assert_eq!(parsed.event_id.as_deref(), Some("whe_t"));
        }
    }

    #[test]
    fn npn_is_replaced_only_where_the_example_has_one() {
        let body = render_example(
            "producersync.npn.activated",
            "e",
            "2025-01-01T00:00:00Z",
            Some("77"),
        )
        .expect("known type");
        assert_eq!(interpret(&body).npn.as_deref(), Some("77"));
        let run = render_example(
            "producersync.updates_available",
            "e",
            "2025-01-01T00:00:00Z",
            Some("77"),
        )
        .expect("known type");
        assert_eq!(interpret(&run).npn, None);
    }

    #[test]
    fn unknown_type_lists_the_known_ones() {
        let error = render_example("nope", "e", "t", None).expect_err("unknown");
        assert!(error.to_string().contains("producersync.npn.activated"));
    }

    #[test]
    fn embedded_copy_matches_the_shared_file() {
        let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/events/agentsync-examples.json");
        if let Ok(text) = std::fs::read_to_string(shared) {
            assert_eq!(text, EXAMPLES_JSON);
        }
    }
}
