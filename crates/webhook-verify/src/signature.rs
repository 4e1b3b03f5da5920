//! The `webhook-signature` header and the HMAC it carries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::Secret;

type HmacSha256 = Hmac<Sha256>;

/// The only version tag an HMAC verifier considers.
pub(crate) const HMAC_VERSION: &str = "v1";

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
pub fn parse_signature_header(header: &str) -> Vec<SignatureEntry<'_>> {
    header
        .split(' ')
        .filter_map(|element| element.split_once(','))
        .map(|(version, signature)| SignatureEntry { version, signature })
        .collect()
}

/// The bytes that are signed: `{id}.{timestamp}.{body}`.
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

/// Signs a delivery the way a Standard Webhooks sender does, returning the
/// `v1,<base64>` header value. Used by `send-example`, the load generator
/// and tests.
pub fn sign(secret: &Secret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let tag = mac_over(secret, msg_id, timestamp, body)
        .finalize()
        .into_bytes();
    format!("{HMAC_VERSION},{}", STANDARD.encode(tag))
}

/// Whether `signature` (base64 text) is the HMAC of this delivery under
/// `secret`. The comparison of the tag is constant-time (`Mac::verify_slice`);
/// text that is not canonical padded base64 never matches.
pub(crate) fn signature_matches(
    secret: &Secret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
    signature: &str,
) -> bool {
    let Ok(claimed) = STANDARD.decode(signature) else {
        return false;
    };
    mac_over(secret, msg_id, timestamp, body)
        .verify_slice(&claimed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_entries_split_on_spaces_and_commas() {
        let entries = parse_signature_header("v1,abc  v1a,def bare v2,");
        assert_eq!(
            entries,
            vec![
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
            ]
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
    fn empty_or_truncated_signatures_never_match() {
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid");
        for claimed in ["", "g0hM9", "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE"] {
            assert!(
                !signature_matches(&secret, "msg", 1, b"", claimed),
                "{claimed}"
            );
        }
    }
}
