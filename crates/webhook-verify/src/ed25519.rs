//! Standard Webhooks' asymmetric scheme, `v1a`: ed25519 signatures over
//! the same signed content as `v1`, with public keys written `whpk_<base64>`
//! and signing keys `whsk_<base64>`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signature, Signer as _};

/// The prefix of a public (verifying) key.
pub(crate) const PUBLIC_KEY_PREFIX: &str = "whpk_";
/// The prefix of a signing key, which only a sender may hold.
pub(crate) const SIGNING_KEY_PREFIX: &str = "whsk_";
/// The version tag of an ed25519 signature entry.
pub(crate) const ED25519_VERSION: &str = "v1a";

/// An ed25519 public key, from `whpk_<base64 of 32 bytes>`: what a receiver
/// configures to verify `v1a` signatures. Not secret, but `Debug` stays
/// short like the other keys'.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: ed25519_dalek::VerifyingKey,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicKey(whpk_…)")
    }
}

impl PublicKey {
    /// Decodes the base64 after `whpk_`; `None` when it is not 32 bytes of
    /// strict standard base64 naming a point on the curve.
    pub(crate) fn decode(encoded: &str) -> Option<Self> {
        let bytes: [u8; 32] = STANDARD.decode(encoded).ok()?.try_into().ok()?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).ok()?;
        Some(Self { key })
    }

    /// The `whpk_` form of this key.
    pub fn to_whpk(&self) -> String {
        format!(
            "{PUBLIC_KEY_PREFIX}{}",
            STANDARD.encode(self.key.as_bytes())
        )
    }

    /// Whether `signature` (base64 text of 64 bytes) is this key's
    /// signature of `message`. Verification is strict: non-canonical
    /// scalars and small-order points are refused, so a signature cannot be
    /// altered into another one that also verifies.
    pub(crate) fn signed(&self, message: &[u8], signature: &str) -> bool {
        let Some(bytes) = STANDARD
            .decode(signature)
            .ok()
            .and_then(|bytes| <[u8; 64]>::try_from(bytes).ok())
        else {
            return false;
        };
        self.key
            .verify_strict(message, &Signature::from_bytes(&bytes))
            .is_ok()
    }
}

/// An ed25519 signing key, from `whsk_<base64>` (64 bytes: seed then public
/// key, as Standard Webhooks writes it, or the 32-byte seed alone). A
/// receiver never needs one: configuring it by mistake is refused, and
/// `send-example` and tests sign with it. `Debug` never shows it.
#[derive(Clone)]
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl SigningKey {
    /// Parses `whsk_<base64>`; `None` when the text is not such a key (a
    /// 64-byte key whose second half is not the seed's public key is not).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = STANDARD
            .decode(text.strip_prefix(SIGNING_KEY_PREFIX)?)
            .ok()?;
        let key = match bytes.len() {
            32 => ed25519_dalek::SigningKey::from_bytes(&bytes.try_into().ok()?),
            64 => ed25519_dalek::SigningKey::from_keypair_bytes(&bytes.try_into().ok()?).ok()?,
            _ => return None,
        };
        Some(Self { key })
    }

    /// The key whose seed is these 32 bytes (a test or a sender generates
    /// them at random).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self {
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
        }
    }

    /// The `whsk_` form (seed then public key), to hand to a sender.
    pub fn to_whsk(&self) -> String {
        format!(
            "{SIGNING_KEY_PREFIX}{}",
            STANDARD.encode(self.key.to_keypair_bytes())
        )
    }

    /// The public key a receiver configures.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key(),
        }
    }

    /// The `v1a,<base64>` entry for `message`.
    pub(crate) fn sign_entry(&self, message: &[u8]) -> String {
        let signature = self.key.sign(message);
        format!(
            "{ED25519_VERSION},{}",
            STANDARD.encode(signature.to_bytes())
        )
    }
}

/// Whether `text` looks like a `whsk_` signing key, so configuration can
/// refuse it with advice instead of a base64 complaint.
pub(crate) fn is_signing_key(text: &str) -> bool {
    text.starts_with(SIGNING_KEY_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whsk_and_whpk_round_trip() {
        let key = SigningKey::from_seed([7; 32]);
        let parsed = SigningKey::parse(&key.to_whsk()).expect("own output parses");
        assert_eq!(parsed.public_key(), key.public_key());
        let public = key.public_key().to_whpk();
        let decoded = public
            .strip_prefix(PUBLIC_KEY_PREFIX)
            .and_then(PublicKey::decode);
        assert_eq!(decoded, Some(key.public_key()));
    }

    #[test]
    fn a_keypair_whose_halves_disagree_is_refused() {
        let mut bytes = SigningKey::from_seed([7; 32]).key.to_keypair_bytes();
        bytes[40] ^= 1;
        let text = format!("{SIGNING_KEY_PREFIX}{}", STANDARD.encode(bytes));
        assert!(SigningKey::parse(&text).is_none());
    }

    #[test]
    fn signatures_of_the_wrong_length_or_encoding_never_match() {
        let key = SigningKey::from_seed([9; 32]);
        let entry = key.sign_entry(b"message");
        let signature = entry.strip_prefix("v1a,").expect("tagged");
        assert!(key.public_key().signed(b"message", signature));
        assert!(!key.public_key().signed(b"messagE", signature));
        for claimed in ["", "AAAA", &signature[..signature.len() - 4]] {
            assert!(!key.public_key().signed(b"message", claimed), "{claimed}");
        }
    }

    #[test]
    fn a_signature_with_a_non_canonical_scalar_is_refused() {
        let key = SigningKey::from_seed([3; 32]);
        let entry = key.sign_entry(b"m");
        let mut bytes: [u8; 64] = STANDARD
            .decode(entry.strip_prefix("v1a,").expect("tagged"))
            .expect("base64")
            .try_into()
            .expect("64 bytes");
        // s + l (the group order) is the same scalar mod l, but not
        // canonical: a malleable verifier would accept it.
        const ORDER: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for (byte, order) in bytes[32..].iter_mut().zip(ORDER) {
            let sum = u16::from(*byte) + u16::from(order) + carry;
            *byte = sum as u8;
            carry = sum >> 8;
        }
        let altered = STANDARD.encode(bytes);
        assert!(!key.public_key().signed(b"m", &altered));
    }
}
