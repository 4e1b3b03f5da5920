//! Interpreting any body never panics, and what it understands is
//! consistent: an understood event always has an id and a type.
#![no_main]

use agentsync_events::{interpret, mask_value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let parsed = interpret(body);
    if parsed.outcome.is_ok() {
        assert!(parsed.event_id.is_some() && parsed.event_type.is_some());
    }
    if let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(body) {
        mask_value(&mut value);
    }
});
