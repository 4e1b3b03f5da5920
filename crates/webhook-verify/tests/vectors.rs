//! The shared Standard Webhooks vectors, as a data-driven test: the verifier
//! accepts exactly the cases marked valid at the case's `now`.

use std::path::PathBuf;

use serde::Deserialize;
use webhook_verify::{DEFAULT_TOLERANCE_SECS, DeliveryHeaders, SecretSet, verify};

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

    /// Whether our verifier accepts the case. A secret refused at
    /// construction counts as "not accepted", as the vectors intend.
    fn accepted(&self) -> bool {
        let Ok(secrets) = SecretSet::parse(&self.secret) else {
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
fn v1a_only_headers_are_not_accepted_by_an_hmac_verifier() {
    // v1a (ed25519) is not supported yet: a header carrying only v1a entries
    // never verifies, whatever the key.
    for case in load_cases().iter().filter(|case| case.scheme == "v1a") {
        assert!(!case.accepted(), "{}", case.note);
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
