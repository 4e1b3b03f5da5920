//! Standard Webhooks verification, the first stage of the line
//! verify → append → fold → serve.
//!
//! Everything here is pure: the caller hands in the three header values, the
//! exact body bytes received, the secrets and the current time. Nothing reads
//! a clock, the network or the environment, so every rule of the
//! specification can be pinned down by table-driven and property tests.

mod ed25519;
mod secret;
mod signature;
mod verify;

pub use ed25519::{PublicKey, SigningKey};
pub use secret::{Secret, SecretError, SecretSet, VerificationKey};
pub use signature::{MAX_SIGNATURE_ENTRIES, SignatureEntry, Signer, parse_signature_header, sign};
pub use verify::{DEFAULT_TOLERANCE_SECS, DeliveryHeaders, Rejection, VerifiedDelivery, verify};
