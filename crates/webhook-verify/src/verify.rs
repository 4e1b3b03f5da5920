//! The verification decision: accept a delivery or say precisely why not.

use crate::secret::{SecretSet, VerificationKey};
use crate::signature::{
    HMAC_VERSION, MAX_SIGNATURE_ENTRIES, SignatureEntry, claimed_tag, expected_tag, is_ed25519,
    parse_signature_header, signed_content, tags_equal,
};

/// The Standard Webhooks default: a timestamp may be this far from `now`,
/// in either direction, before a delivery is treated as a replay.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

/// The three header values a delivery carries, as received. `None` when the
/// header was absent (under both its `webhook-` and its `svix-` name).
#[derive(Debug, Clone, Copy, Default)]
pub struct DeliveryHeaders<'a> {
    /// `webhook-id`: the delivery key, repeated on retries.
    pub id: Option<&'a str>,
    /// `webhook-timestamp`: integer seconds since the Unix epoch.
    pub timestamp: Option<&'a str>,
    /// `webhook-signature`: space-separated `version,base64` entries.
    pub signature: Option<&'a str>,
}

/// A delivery whose signature matched one of the secrets within tolerance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDelivery {
    /// The `webhook-id` header: the delivery's idempotency key.
    pub webhook_id: String,
    /// The signed timestamp, in seconds since the Unix epoch.
    pub timestamp: i64,
    /// Which configured key matched (0 is the first): shows when a rotated
    /// key is still in use.
    pub secret_index: usize,
}

/// Why a delivery was refused. The variants split into malformed requests
/// (the sender is broken) and authentication failures (forgery or replay),
/// which the HTTP edge answers with 400 and 401 respectively.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A required header is absent or empty.
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    /// The timestamp header is not an integer number of seconds.
    #[error("the webhook-timestamp header is not an integer number of seconds")]
    InvalidTimestamp,
    /// The signature header has no `version,signature` entry at all.
    #[error("the webhook-signature header has no 'version,signature' entry")]
    MalformedSignatureHeader,
    /// The signature header has more entries than a sender ever writes.
    #[error("the webhook-signature header has more than {max} entries")]
    TooManySignatures {
        /// The bound in force.
        max: usize,
    },
    /// The timestamp is older than the tolerance: a replay or a stuck queue.
    #[error("the webhook-timestamp is {age_secs} s old, more than the {tolerance_secs} s allowed")]
    TimestampTooOld {
        /// How old the timestamp is.
        age_secs: u64,
        /// The tolerance in force.
        tolerance_secs: u64,
    },
    /// The timestamp is further in the future than the tolerance.
    #[error(
        "the webhook-timestamp is {ahead_secs} s in the future, more than the {tolerance_secs} s allowed"
    )]
    TimestampTooNew {
        /// How far ahead of `now` the timestamp is.
        ahead_secs: u64,
        /// The tolerance in force.
        tolerance_secs: u64,
    },
    /// No `v1` entry matches a configured secret, and no `v1a` entry a
    /// configured public key.
    #[error("no signature matches a configured key")]
    NoMatchingSignature,
}

impl Rejection {
    /// Whether the request itself is malformed (as opposed to well-formed but
    /// not authentic or not fresh).
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            Self::MissingHeader(_)
                | Self::InvalidTimestamp
                | Self::MalformedSignatureHeader
                | Self::TooManySignatures { .. }
        )
    }
}

/// Verifies one delivery over the exact bytes received.
///
/// Checks run from cheapest to dearest: headers present, timestamp an
/// integer, signature header well-formed with at most
/// [`MAX_SIGNATURE_ENTRIES`] entries, timestamp within `tolerance_secs` of
/// `now` (seconds since the epoch), then the signatures. Each HMAC secret's
/// tag is computed once and compared with every `v1` entry, so the cost
/// does not grow with the number of entries; each public key checks the
/// `v1a` entries. Any match accepts; other version tags are skipped. The
/// work is one pass over the body per configured secret, plus one per
/// public key and `v1a` entry.
pub fn verify(
    headers: DeliveryHeaders<'_>,
    body: &[u8],
    secrets: &SecretSet,
    now: i64,
    tolerance_secs: u64,
) -> Result<VerifiedDelivery, Rejection> {
    let webhook_id = required(headers.id, "webhook-id")?;
    let timestamp_text = required(headers.timestamp, "webhook-timestamp")?;
    let signature_header = required(headers.signature, "webhook-signature")?;

    let timestamp: i64 = timestamp_text
        .parse()
        .map_err(|_| Rejection::InvalidTimestamp)?;
    let entries = parse_signature_header(signature_header).ok_or(Rejection::TooManySignatures {
        max: MAX_SIGNATURE_ENTRIES,
    })?;
    if entries.is_empty() {
        return Err(Rejection::MalformedSignatureHeader);
    }
    check_freshness(timestamp, now, tolerance_secs)?;

    let delivery = Delivery {
        webhook_id,
        timestamp,
        body,
    };
    let matched =
        matching_key(secrets, &entries, &delivery).ok_or(Rejection::NoMatchingSignature)?;
    Ok(VerifiedDelivery {
        webhook_id: webhook_id.to_owned(),
        timestamp,
        secret_index: matched,
    })
}

/// What is signed, before it is put together.
struct Delivery<'a> {
    webhook_id: &'a str,
    timestamp: i64,
    body: &'a [u8],
}

/// The index of the first configured key that one of `entries` matches.
fn matching_key(
    secrets: &SecretSet,
    entries: &[SignatureEntry<'_>],
    delivery: &Delivery<'_>,
) -> Option<usize> {
    let claimed_tags: Vec<[u8; 32]> = entries
        .iter()
        .filter(|entry| entry.version == HMAC_VERSION)
        .filter_map(|entry| claimed_tag(entry.signature))
        .collect();
    let ed25519_signatures: Vec<&str> = entries
        .iter()
        .filter(|entry| is_ed25519(entry))
        .map(|entry| entry.signature)
        .collect();
    // The ed25519 message is one buffer; it is built only when needed.
    let mut content: Option<Vec<u8>> = None;
    secrets.keys().iter().position(|key| match key {
        VerificationKey::Hmac(secret) => {
            if claimed_tags.is_empty() {
                return false;
            }
            let expected = expected_tag(
                secret,
                delivery.webhook_id,
                delivery.timestamp,
                delivery.body,
            );
            claimed_tags
                .iter()
                .any(|claimed| tags_equal(&expected, claimed))
        }
        VerificationKey::Ed25519(public_key) => {
            if ed25519_signatures.is_empty() {
                return false;
            }
            let message = content.get_or_insert_with(|| {
                signed_content(delivery.webhook_id, delivery.timestamp, delivery.body)
            });
            ed25519_signatures
                .iter()
                .any(|signature| public_key.signed(message, signature))
        }
    })
}

fn required<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, Rejection> {
    match value {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(Rejection::MissingHeader(name)),
    }
}

fn check_freshness(timestamp: i64, now: i64, tolerance_secs: u64) -> Result<(), Rejection> {
    let distance = now.abs_diff(timestamp);
    if distance <= tolerance_secs {
        return Ok(());
    }
    if timestamp < now {
        Err(Rejection::TimestampTooOld {
            age_secs: distance,
            tolerance_secs,
        })
    } else {
        Err(Rejection::TimestampTooNew {
            ahead_secs: distance,
            tolerance_secs,
        })
    }
}
