//! The AgentSync event model, the second stage of the line
//! verify → append → fold → serve.
//!
//! A verified body is interpreted here: the envelope `{id, type, timestamp,
//! data}`, the typed event kind, the producer's NPN. Interpretation never
//! fails outright: a body that cannot be understood yields a
//! [`NotUnderstood`] reason, and the log keeps it anyway. Pure: no IO, no
//! clock.

mod examples;
mod interpret;
mod kind;
mod mask;
mod npn;
mod raw;

pub use examples::{EXAMPLES_JSON, Example, ExampleError, example_types, examples, render_example};
pub use interpret::{
    Interpretation, NotUnderstood, TEST_DELIVERY, interpret, parse_timestamp_micros, record_payload,
};
pub use kind::{EventKind, INTERPRETER_VERSION, NPN_ACTIVATED, NPN_DEACTIVATED, SubRecordKind};
pub use mask::{SENSITIVE_KEYS, is_sensitive_key, mask_text, mask_value, masked_body};
pub use npn::{NpnError, normalise_npn};
pub use raw::RawObject;
