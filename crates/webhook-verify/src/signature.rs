//! The `webhook-signature` header and the HMAC it carries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::ed25519::{ED25519_VERSION, SigningKey, is_signing_key};
use crate::secret::{Secret, SecretError, split_keys};

type HmacSha256 = Hmac<Sha256>;

/// The only version tag an HMAC verifier considers.
pub(crate) const HMAC_VERSION: &str = "v1";

/// The most entries a signature header may carry. A sender writes one per
/// active key (two during a rotation); a header with more is refused before
/// any signature is checked, so its length cannot multiply the work.
pub const MAX_SIGNATURE_ENTRIES: usize = 32;

/// One `version,signature` entry of a signature header, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureEntry<'a> {
    /// The version tag (`v1`, `v1a`, …), case-sensitive.
    pub version: &'a str,
    /// The base64 text after the comma, not yet decoded.
    pub signature: &'a str,
}

/// Splits a signature header into its entries. Entries are separated by
/// spaces (runs of spaces are tolerated, as the Rust, Go and JS reference
/// libraries do); an element without a comma carries no version and is
/// skipped. An empty result means the header says nothing verifiable.
///
/// Reading stops after [`MAX_SIGNATURE_ENTRIES`] + 1 entries: `None` means
/// the header holds more than that, so a caller can refuse it whatever its
/// length.
pub fn parse_signature_header(header: &str) -> Option<Vec<SignatureEntry<'_>>> {
    let entries: Vec<_> = header
        .split(' ')
        .filter_map(|element| element.split_once(','))
        .map(|(version, signature)| SignatureEntry { version, signature })
        .take(MAX_SIGNATURE_ENTRIES + 1)
        .collect();
    (entries.len() <= MAX_SIGNATURE_ENTRIES).then_some(entries)
}

/// The bytes that are signed, in both schemes: `{id}.{timestamp}.{body}`.
pub(crate) fn signed_content(msg_id: &str, timestamp: i64, body: &[u8]) -> Vec<u8> {
    let timestamp = timestamp.to_string();
    let mut content = Vec::with_capacity(msg_id.len() + timestamp.len() + body.len() + 2);
    content.extend_from_slice(msg_id.as_bytes());
    content.push(b'.');
    content.extend_from_slice(timestamp.as_bytes());
    content.push(b'.');
    content.extend_from_slice(body);
    content
}

/// The HMAC of the signed content, fed in parts so the body is not copied.
fn mac_over(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(secret.key()).expect("HMAC accepts keys of any length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The tag a delivery must carry under `secret`: computed once per key,
/// then compared with every `v1` entry.
pub(crate) fn expected_tag(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    mac_over(secret, msg_id, timestamp, body)
        .finalize()
        .into_bytes()
        .into()
}

/// Decodes a `v1` entry's signature; `None` when it is not canonical padded
/// base64 of exactly 32 bytes (such an entry can never match).
pub(crate) fn claimed_tag(signature: &str) -> Option<[u8; 32]> {
    STANDARD.decode(signature).ok()?.try_into().ok()
}

/// Whether a claimed tag equals the expected one, in constant time.
pub(crate) fn tags_equal(expected: &[u8; 32], claimed: &[u8; 32]) -> bool {
    expected.ct_eq(claimed).into()
}

/// Signs a delivery the way a Standard Webhooks sender does, returning the
/// `v1,<base64>` header value. Used by `send-example`, the load generator
/// and tests.
pub fn sign(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac_over(secret, msg_id, timestamp, body)
        .finalize()
        .into_bytes();
    format!("{HMAC_VERSION},{}", STANDARD.encode(tag))
}

/// What a sender signs with: an HMAC secret (`v1` entries) or an ed25519
/// signing key (`v1a` entries). `send-example`, the load generator and
/// tests use it to sign as AgentSync would.
#[derive(Clone, Debug)]
pub enum Signer {
    /// `whsec_…`
    Hmac(Secret),
    /// `whsk_…`
    Ed25519(SigningKey),
}

impl Signer {
    /// Parses a `whsec_` secret (prefix optional) or a `whsk_` signing key.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        if is_signing_key(text) {
            return SigningKey::parse(text)
                .map(Self::Ed25519)
                .ok_or(SecretError::NotASigningKey(1));
        }
        Secret::parse(text).map(Self::Hmac)
    }

    /// The first key of a list as held in one variable (separated by
    /// whitespace or commas): a sender signs with the newest key.
    pub fn parse_first(list: &str) -> Result<Self, SecretError> {
        split_keys(list)
            .next()
            .map_or(Err(SecretError::Missing), Self::parse)
    }

    /// The `webhook-signature` header value for this delivery.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        match self {
            Self::Hmac(secret) => sign(secret, msg_id, timestamp, body),
            Self::Ed25519(key) => key.sign_entry(&signed_content(msg_id, timestamp, body)),
        }
    }
}

/// Whether an entry carries an ed25519 signature.
pub(crate) fn is_ed25519(entry: &SignatureEntry<'_>) -> bool {
    entry.version == ED25519_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_entries_split_on_spaces_and_commas() {
        let entries = parse_signature_header("v1,abc  v1a,def bare v2,");
        assert_eq!(
            entries,
            Some(vec![
                SignatureEntry {
                    version: "v1",
                    signature: "abc"
                },
                SignatureEntry {
                    version: "v1a",
                    signature: "def"
                },
                SignatureEntry {
                    version: "v2",
                    signature: ""
                },
            ])
        );
    }

    #[test]
    fn a_header_of_more_than_the_bound_is_refused_whatever_its_length() {
        let at_bound = vec!["v1,AAAA"; MAX_SIGNATURE_ENTRIES].join(" ");
        assert_eq!(
            parse_signature_header(&at_bound).map(|e| e.len()),
            Some(MAX_SIGNATURE_ENTRIES)
        );
        let over = format!("{at_bound} v1,AAAA");
        assert_eq!(parse_signature_header(&over), None);
        let huge = vec!["v1,AAAA"; 12_000].join(" ");
        assert_eq!(parse_signature_header(&huge), None);
        // Elements without a comma are not entries and do not count.
        let padded = format!("{at_bound} {}", vec!["bare"; 100].join(" "));
        assert!(parse_signature_header(&padded).is_some());
    }

    #[test]
    fn both_signers_sign_the_same_content() {
        let key = SigningKey::from_seed([1; 32]);
        let header = Signer::Ed25519(key.clone()).sign("msg", 5, b"{}");
        let signature = header.strip_prefix("v1a,").expect("tagged v1a");
        assert!(key.public_key().signed(b"msg.5.{}", signature));
        let secret = Secret::from_bytes(b"k".to_vec());
        assert_eq!(
            Signer::Hmac(secret.clone()).sign("msg", 5, b"{}"),
            sign(&secret, "msg", 5, b"{}")
        );
    }

    #[test]
    fn sign_reproduces_the_canonical_vector() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid");
        let header = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn empty_truncated_or_unpadded_signatures_decode_to_no_tag() {
        for claimed in ["", "g0hM9", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"] {
            assert_eq!(claimed_tag(claimed), None, "{claimed}");
        }
        assert!(claimed_tag("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=").is_some());
    }
}
