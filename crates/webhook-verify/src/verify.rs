//! The verification decision: accept a delivery or say precisely why not.

use crate::secret::SecretSet;
use crate::signature::{HMAC_VERSION, parse_signature_header, signature_matches};

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
    /// Which configured secret matched (0 is the first): shows when a rotated
    /// secret is still in use.
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
    /// No `v1` entry matches any configured secret.
    #[error("no v1 signature matches a configured secret")]
    NoMatchingSignature,
}

impl Rejection {
    /// Whether the request itself is malformed (as opposed to well-formed but
    /// not authentic or not fresh).
    pub fn is_malformed(&self) -> bool {
        matches!(
            self,
            Self::MissingHeader(_) | Self::InvalidTimestamp | Self::MalformedSignatureHeader
        )
    }
}

/// Verifies one delivery over the exact bytes received.
///
/// Checks run from cheapest to dearest: headers present, timestamp an
/// integer, signature header well-formed, timestamp within `tolerance_secs`
/// of `now` (seconds since the epoch), then the HMAC of every `v1` entry
/// against every secret. Any match accepts; other version tags are skipped.
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
    let entries = parse_signature_header(signature_header);
    if entries.is_empty() {
        return Err(Rejection::MalformedSignatureHeader);
    }
    check_freshness(timestamp, now, tolerance_secs)?;

    let v1_signatures = entries
        .iter()
        .filter(|entry| entry.version == HMAC_VERSION)
        .map(|entry| entry.signature);
    for signature in v1_signatures {
        for (secret_index, secret) in secrets.secrets().iter().enumerate() {
            if signature_matches(secret, webhook_id, timestamp, body, signature) {
                return Ok(VerifiedDelivery {
                    webhook_id: webhook_id.to_owned(),
                    timestamp,
                    secret_index,
                });
            }
        }
    }
    Err(Rejection::NoMatchingSignature)
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
