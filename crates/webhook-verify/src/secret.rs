//! The keys a receiver verifies with: `whsec_<base64>` HMAC secrets and
//! `whpk_<base64>` ed25519 public keys, one or several (rotation).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::ed25519::{PUBLIC_KEY_PREFIX, PublicKey, is_signing_key};

/// The prefix Standard Webhooks puts in front of a symmetric secret.
const SECRET_PREFIX: &str = "whsec_";

/// Why a configured secret was refused. The secret itself is never part of
/// the message, so the error can be printed safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No secret at all was given.
    #[error("no secret given")]
    Missing,
    /// A secret was empty after its `whsec_` prefix.
    #[error("secret number {0} is empty after the whsec_ prefix")]
    Empty(usize),
    /// A secret was not standard, padded base64.
    #[error("secret number {0} is not valid standard base64 (padded, '+' and '/')")]
    NotBase64(usize),
    /// A `whpk_` key was not 32 bytes of standard base64 naming an ed25519
    /// public key.
    #[error(
        "secret number {0} is not an ed25519 public key: whpk_ must be followed by the standard base64 of 32 bytes"
    )]
    NotAPublicKey(usize),
    /// A `whsk_` key was not 32 or 64 bytes of standard base64 forming an
    /// ed25519 signing key.
    #[error("secret number {0} is not an ed25519 signing key (whsk_ and the base64 of 64 bytes)")]
    NotASigningKey(usize),
    /// A `whsk_` signing key was given where a receiver needs the public key.
    #[error(
        "secret number {0} is a whsk_ signing key, which only the sender may hold: configure its whpk_ public key instead"
    )]
    SigningKeyGiven(usize),
}

/// One HMAC key, decoded. `Debug` never shows the key bytes, so a secret can
/// sit inside configuration structs that get logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    key: Vec<u8>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    /// Parses one secret, with or without the `whsec_` prefix. The base64 is
    /// strict (standard alphabet, padded), like the Rust and Go reference
    /// libraries: an unpadded or URL-safe secret is a configuration mistake
    /// that should surface at start rather than as 401s later.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        Self::parse_numbered(text, 1)
    }

    fn parse_numbered(text: &str, number: usize) -> Result<Self, SecretError> {
        let encoded = text.strip_prefix(SECRET_PREFIX).unwrap_or(text);
        if encoded.is_empty() {
            return Err(SecretError::Empty(number));
        }
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64(number))?;
        if key.is_empty() {
            return Err(SecretError::Empty(number));
        }
        Ok(Self { key })
    }

    /// Wraps raw key bytes, as a sender or a test generates them.
    pub fn from_bytes(key: impl Into<Vec<u8>>) -> Self {
        Self { key: key.into() }
    }

    /// The `whsec_` form of this key, for a sender that needs to share it.
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    pub(crate) fn key(&self) -> &[u8] {
        &self.key
    }
}

/// One key a delivery may be verified with: an HMAC secret checks `v1`
/// entries, an ed25519 public key `v1a` entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerificationKey {
    /// `whsec_…`: Standard Webhooks' symmetric scheme.
    Hmac(Secret),
    /// `whpk_…`: Standard Webhooks' asymmetric scheme.
    Ed25519(PublicKey),
}

impl VerificationKey {
    fn parse_numbered(text: &str, number: usize) -> Result<Self, SecretError> {
        if is_signing_key(text) {
            return Err(SecretError::SigningKeyGiven(number));
        }
        match text.strip_prefix(PUBLIC_KEY_PREFIX) {
            Some(encoded) => PublicKey::decode(encoded)
                .map(Self::Ed25519)
                .ok_or(SecretError::NotAPublicKey(number)),
            None => Secret::parse_numbered(text, number).map(Self::Hmac),
        }
    }
}

/// The keys of a list held in one variable: separated by whitespace or
/// commas.
pub(crate) fn split_keys(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|part| !part.is_empty())
}

/// Every key that may have signed a delivery to one endpoint: during a
/// rotation the old and the new are both valid, and HMAC secrets and
/// public keys may be mixed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretSet {
    keys: Vec<VerificationKey>,
}

impl SecretSet {
    /// Parses a list of keys separated by whitespace or commas, as held in
    /// one environment variable: `whsec_` secrets (the prefix is optional)
    /// and `whpk_` public keys. A `whsk_` signing key is refused.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let keys = split_keys(text)
            .enumerate()
            .map(|(index, part)| VerificationKey::parse_numbered(part, index + 1))
            .collect::<Result<Vec<_>, _>>()?;
        if keys.is_empty() {
            return Err(SecretError::Missing);
        }
        Ok(Self { keys })
    }

    /// A set holding exactly one HMAC secret.
    pub fn single(secret: Secret) -> Self {
        Self {
            keys: vec![VerificationKey::Hmac(secret)],
        }
    }

    /// A set holding exactly one public key.
    pub fn single_public(key: PublicKey) -> Self {
        Self {
            keys: vec![VerificationKey::Ed25519(key)],
        }
    }

    /// The keys, in the order they were configured.
    pub fn keys(&self) -> &[VerificationKey] {
        &self.keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_is_optional() {
        let with = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let without = Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(with, without);
        assert!(with.is_ok());
    }

    #[test]
    fn empty_unpadded_and_url_safe_secrets_are_refused() {
        assert_eq!(Secret::parse("whsec_"), Err(SecretError::Empty(1)));
        assert_eq!(
            Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS"),
            Err(SecretError::NotBase64(1))
        );
        assert_eq!(
            Secret::parse("whsec_C2FVsBQIhrscChlQIMV-b5sSYspob7oD"),
            Err(SecretError::NotBase64(1))
        );
    }

    #[test]
    fn set_splits_on_commas_and_whitespace() {
        let set = SecretSet::parse(
            " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,\n whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD ",
        );
        assert_eq!(set.map(|s| s.keys().len()), Ok(2));
        assert_eq!(SecretSet::parse(" , "), Err(SecretError::Missing));
        assert_eq!(
            SecretSet::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,whsec_"),
            Err(SecretError::Empty(2))
        );
    }

    #[test]
    fn errors_and_debug_never_show_the_secret() {
        let text = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS";
        let error = Secret::parse(text).expect_err("unpadded");
        assert!(!error.to_string().contains("MfKQ9r8"));
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid");
        assert!(!format!("{secret:?}").contains("MfKQ9r8"));
    }

    #[test]
    fn public_keys_mix_with_secrets_and_signing_keys_are_refused() {
        let signing = crate::SigningKey::from_seed([5; 32]);
        let public = signing.public_key().to_whpk();
        let set = SecretSet::parse(&format!("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw {public}"))
            .expect("a mix is valid");
        assert!(matches!(set.keys()[1], VerificationKey::Ed25519(_)));
        let whsk = signing.to_whsk();
        let error = SecretSet::parse(&format!("{public},{whsk}")).expect_err("signing key");
        assert_eq!(error, SecretError::SigningKeyGiven(2));
        assert!(!error.to_string().contains(&whsk[5..15]));
        assert!(error.to_string().contains("whpk_"));
        assert_eq!(
            SecretSet::parse("whpk_AAAA"),
            Err(SecretError::NotAPublicKey(1))
        );
    }

    #[test]
    fn whsec_round_trips() {
        let secret = Secret::from_bytes(b"0123456789abcdef".to_vec());
        assert_eq!(Secret::parse(&secret.to_whsec()), Ok(secret));
    }
}
