//! Standard Webhooks verification, the first stage of the line
//! verify → append → fold → serve.
//!
//! Everything here is pure: the caller hands in the three header values, the
//! exact body bytes received, the secrets and the current time. Nothing reads
//! a clock, the network or the environment, so every rule of the
//! specification can be pinned down by table-driven and property tests.

mod secret;
mod signature;
mod verify;

pub use secret::{Secret, SecretError, SecretSet};
pub use signature::{SignatureEntry, parse_signature_header, sign};
pub use verify::{DEFAULT_TOLERANCE_SECS, DeliveryHeaders, Rejection, VerifiedDelivery, verify};
