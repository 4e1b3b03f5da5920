//! The shared Standard Webhooks vectors, as a data-driven test: the verifier
//! accepts exactly the cases marked valid at the case's `now`.

use std::path::PathBuf;

use serde::Deserialize;
use webhook_verify::{DEFAULT_TOLERANCE_SECS, DeliveryHeaders, SecretSet, Signer, verify};

#[derive(Deserialize)]
struct Case {
    secret: String,
    msg_id: String,
    timestamp: String,
    now: i64,
    signature: String,
    valid: bool,
    note: String,
    payload: Option<String>,
    payload_repeat: Option<Repeat>,
    scheme: String,
    public_key: Option<String>,
}

#[derive(Deserialize)]
struct Repeat {
    #[serde(rename = "char")]
    character: String,
    count: usize,
}

impl Case {
    fn body(&self) -> Vec<u8> {
        match (&self.payload, &self.payload_repeat) {
            (_, Some(repeat)) => repeat.character.repeat(repeat.count).into_bytes(),
            (Some(payload), None) => payload.clone().into_bytes(),
            (None, None) => Vec::new(),
        }
    }

    /// Whether our verifier accepts the case with the key a receiver
    /// configures: the public key of a v1a case, the secret otherwise. A
    /// key refused at construction counts as "not accepted", as the vectors
    /// intend.
    fn accepted(&self) -> bool {
        let key = self.public_key.as_deref().unwrap_or(&self.secret);
        let Ok(secrets) = SecretSet::parse(key) else {
            return false;
        };
        let headers = DeliveryHeaders {
            id: Some(&self.msg_id),
            timestamp: Some(&self.timestamp),
            signature: Some(&self.signature),
        };
        verify(
            headers,
            &self.body(),
            &secrets,
            self.now,
            DEFAULT_TOLERANCE_SECS,
        )
        .is_ok()
    }
}

/// The vectors live in the shared folder beside the checkout; a copy is kept
/// in this crate so the test also runs where that folder is absent.
fn load_cases() -> Vec<Case> {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/standard-webhooks.json");
    let text = std::fs::read_to_string(&shared)
        .unwrap_or_else(|_| include_str!("standard-webhooks.json").to_owned());
    serde_json::from_str(&text).expect("the vectors file is valid JSON")
}

#[test]
fn verifier_agrees_with_every_v1_vector() {
    let cases = load_cases();
    assert!(
        cases.len() >= 40,
        "expected the full vector set, got {}",
        cases.len()
    );
    let mut checked = 0;
    for case in cases.iter().filter(|case| case.scheme == "v1") {
        assert_eq!(
            case.accepted(),
            case.valid,
            "vector disagrees: {}",
            case.note
        );
        checked += 1;
    }
    println!("{checked} v1 vectors agree");
}

#[test]
fn verifier_agrees_with_every_v1a_vector_and_signing_reproduces_it() {
    let cases = load_cases();
    let v1a: Vec<&Case> = cases.iter().filter(|case| case.scheme == "v1a").collect();
    assert!(!v1a.is_empty(), "the shared vectors carry a v1a case");
    for case in v1a {
        assert_eq!(case.accepted(), case.valid, "{}", case.note);
        // ed25519 signatures are deterministic: the whsk_ key signs the
        // vector's content to exactly the published signature.
        let signer = Signer::parse(&case.secret).expect("the vector's whsk_ key parses");
        let timestamp: i64 = case.timestamp.parse().expect("integer timestamp");
        assert_eq!(
            signer.sign(&case.msg_id, timestamp, &case.body()),
            case.signature,
            "{}",
            case.note
        );
        // A receiver must not be configured with the signing key itself.
        assert!(SecretSet::parse(&case.secret).is_err());
    }
}

#[test]
fn the_copy_in_this_crate_matches_the_shared_vectors() {
    let shared = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/standard-webhooks.json");
    if let Ok(text) = std::fs::read_to_string(shared) {
        assert_eq!(text, include_str!("standard-webhooks.json"));
    }
}
