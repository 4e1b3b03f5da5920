//! Properties of the verifier over random deliveries, secrets and clocks.

use proptest::prelude::*;
use webhook_verify::{
    DeliveryHeaders, MAX_SIGNATURE_ENTRIES, Rejection, Secret, SecretSet, Signer, SigningKey, sign,
    verify,
};

const TOLERANCE: u64 = 300;

fn headers<'a>(id: &'a str, timestamp: &'a str, signature: &'a str) -> DeliveryHeaders<'a> {
    DeliveryHeaders {
        id: Some(id),
        timestamp: Some(timestamp),
        signature: Some(signature),
    }
}

fn secret_strategy() -> impl Strategy<Value = Secret> {
    proptest::collection::vec(any::<u8>(), 1..64).prop_map(Secret::from_bytes)
}

fn signing_key_strategy() -> impl Strategy<Value = SigningKey> {
    any::<[u8; 32]>().prop_map(SigningKey::from_seed)
}

/// A key pair from the operating system's randomness, as a sender makes one.
fn fresh_signing_key() -> SigningKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the OS has randomness");
    SigningKey::from_seed(seed)
}

proptest! {
    #[test]
    fn a_signed_delivery_verifies_within_tolerance(
        secret in secret_strategy(),
        id in "[a-zA-Z0-9_]{1,40}",
        body in proptest::collection::vec(any::<u8>(), 0..512),
        timestamp in 0i64..4_000_000_000,
        skew in -(TOLERANCE as i64)..=(TOLERANCE as i64),
    ) {
        let signature = sign(&secret, &id, timestamp, &body);
        let secrets = SecretSet::single(secret);
        let stamp = timestamp.to_string();
        let verified = verify(headers(&id, &stamp, &signature), &body, &secrets, timestamp + skew, TOLERANCE);
        prop_assert_eq!(verified.map(|v| (v.webhook_id, v.timestamp)), Ok((id, timestamp)));
    }

    #[test]
    fn any_changed_body_byte_is_rejected(
        secret in secret_strategy(),
        body in proptest::collection::vec(any::<u8>(), 1..256),
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let signature = sign(&secret, "msg_1", 1_000, &body);
        let mut tampered = body.clone();
        let at = index.index(tampered.len());
        tampered[at] ^= flip;
        let secrets = SecretSet::single(secret);
        let result = verify(headers("msg_1", "1000", &signature), &tampered, &secrets, 1_000, TOLERANCE);
        prop_assert_eq!(result, Err(Rejection::NoMatchingSignature));
    }

    #[test]
    fn timestamps_outside_tolerance_are_rejected_either_way(
        secret in secret_strategy(),
        now in 1_000_000i64..2_000_000_000,
        beyond in 1u64..1_000_000,
        future in any::<bool>(),
    ) {
        let offset = (TOLERANCE + beyond) as i64;
        let timestamp = if future { now + offset } else { now - offset };
        let signature = sign(&secret, "msg_1", timestamp, b"{}");
        let secrets = SecretSet::single(secret);
        let stamp = timestamp.to_string();
        let result = verify(headers("msg_1", &stamp, &signature), b"{}", &secrets, now, TOLERANCE);
        let expected = if future {
            Rejection::TimestampTooNew { ahead_secs: offset as u64, tolerance_secs: TOLERANCE }
        } else {
            Rejection::TimestampTooOld { age_secs: offset as u64, tolerance_secs: TOLERANCE }
        };
        prop_assert_eq!(result, Err(expected));
    }

    #[test]
    fn any_secret_of_a_rotation_set_verifies(
        old in secret_strategy(),
        new in secret_strategy(),
        use_old in any::<bool>(),
    ) {
        let signer = if use_old { old.clone() } else { new.clone() };
        let signature = sign(&signer, "msg_1", 50, b"{}");
        let set = SecretSet::parse(&format!("{} {}", new.to_whsec(), old.to_whsec()))
            .expect("generated secrets are valid");
        let verified = verify(headers("msg_1", "50", &signature), b"{}", &set, 50, TOLERANCE);
        prop_assert!(verified.is_ok());
    }

    #[test]
    fn a_v1a_signed_delivery_verifies_and_any_changed_byte_does_not(
        key in signing_key_strategy(),
        body in proptest::collection::vec(any::<u8>(), 1..256),
        index in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let signature = Signer::Ed25519(key.clone()).sign("msg_1", 1_000, &body);
        let secrets = SecretSet::single_public(key.public_key());
        let verified = verify(headers("msg_1", "1000", &signature), &body, &secrets, 1_000, TOLERANCE);
        prop_assert!(verified.is_ok());
        let mut tampered = body.clone();
        let at = index.index(tampered.len());
        tampered[at] ^= flip;
        let result = verify(headers("msg_1", "1000", &signature), &tampered, &secrets, 1_000, TOLERANCE);
        prop_assert_eq!(result, Err(Rejection::NoMatchingSignature));
    }

    #[test]
    fn any_key_of_a_mixed_set_verifies_its_own_scheme_only(
        secret in secret_strategy(),
        key in signing_key_strategy(),
        other in signing_key_strategy(),
        use_hmac in any::<bool>(),
    ) {
        prop_assume!(key.public_key() != other.public_key());
        let set = SecretSet::parse(&format!("{} {}", secret.to_whsec(), key.public_key().to_whpk()))
            .expect("generated keys are valid");
        let (signer, index) = if use_hmac {
            (Signer::Hmac(secret), 0)
        } else {
            (Signer::Ed25519(key), 1)
        };
        let signature = signer.sign("msg_1", 50, b"{}");
        let verified = verify(headers("msg_1", "50", &signature), b"{}", &set, 50, TOLERANCE);
        prop_assert_eq!(verified.map(|v| v.secret_index), Ok(index));
        // A v1a signature by a key not in the set is a forgery, and a v1a
        // signature relabelled v1 (or the reverse) never matches.
        let foreign = Signer::Ed25519(other).sign("msg_1", 50, b"{}");
        let body: &[u8] = b"{}";
        prop_assert!(verify(headers("msg_1", "50", &foreign), body, &set, 50, TOLERANCE).is_err());
        let relabelled = match signature.split_once(',') {
            Some(("v1", rest)) => format!("v1a,{rest}"),
            Some((_, rest)) => format!("v1,{rest}"),
            None => signature.clone(),
        };
        prop_assert!(verify(headers("msg_1", "50", &relabelled), body, &set, 50, TOLERANCE).is_err());
    }

    #[test]
    fn arbitrary_headers_never_panic_and_never_verify(
        id in ".{0,64}",
        timestamp in ".{0,24}",
        signature in ".{0,200}",
        body in proptest::collection::vec(any::<u8>(), 0..64),
        now in any::<i64>(),
    ) {
        let secrets = SecretSet::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid");
        let result = verify(headers(&id, &timestamp, &signature), &body, &secrets, now, TOLERANCE);
        prop_assert!(result.is_err());
    }
}

#[test]
fn each_missing_header_is_named() {
    let secrets = SecretSet::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid");
    let full = headers("msg", "10", "v1,abc");
    let cases = [
        (DeliveryHeaders { id: None, ..full }, "webhook-id"),
        (
            DeliveryHeaders {
                id: Some(""),
                ..full
            },
            "webhook-id",
        ),
        (
            DeliveryHeaders {
                timestamp: None,
                ..full
            },
            "webhook-timestamp",
        ),
        (
            DeliveryHeaders {
                signature: None,
                ..full
            },
            "webhook-signature",
        ),
    ];
    for (case, name) in cases {
        assert_eq!(
            verify(case, b"", &secrets, 10, TOLERANCE),
            Err(Rejection::MissingHeader(name))
        );
    }
}

#[test]
fn malformed_values_are_told_apart_from_forgeries() {
    let secrets = SecretSet::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid");
    let check = |timestamp: &str, signature: &str| {
        verify(
            headers("msg", timestamp, signature),
            b"",
            &secrets,
            10,
            TOLERANCE,
        )
    };
    assert_eq!(check("10.0", "v1,abc"), Err(Rejection::InvalidTimestamp));
    assert_eq!(check("ten", "v1,abc"), Err(Rejection::InvalidTimestamp));
    assert_eq!(check("10", "abc"), Err(Rejection::MalformedSignatureHeader));
    assert_eq!(check("10", "   "), Err(Rejection::MalformedSignatureHeader));
    assert_eq!(check("10", "v1,"), Err(Rejection::NoMatchingSignature));
    assert_eq!(check("10", "v2,abc"), Err(Rejection::NoMatchingSignature));
    assert!(Rejection::InvalidTimestamp.is_malformed());
    assert!(!Rejection::NoMatchingSignature.is_malformed());
}

#[test]
fn a_fresh_key_pair_signs_and_its_public_key_verifies() {
    let key = fresh_signing_key();
    let whpk = key.public_key().to_whpk();
    let secrets = SecretSet::parse(&whpk).expect("a whpk_ key is a receiver's key");
    let signer = Signer::parse(&key.to_whsk()).expect("a whsk_ key is a sender's key");
    let body = br#"{"type":"producersync.npn.activated"}"#;
    let signature = signer.sign("msg_fresh", 77, body);
    assert!(signature.starts_with("v1a,"));
    let verified = verify(
        headers("msg_fresh", "77", &signature),
        body,
        &secrets,
        77,
        TOLERANCE,
    );
    assert_eq!(verified.map(|v| v.secret_index), Ok(0));
    let other = fresh_signing_key();
    let secrets = SecretSet::single_public(other.public_key());
    assert_eq!(
        verify(
            headers("msg_fresh", "77", &signature),
            body,
            &secrets,
            77,
            TOLERANCE
        ),
        Err(Rejection::NoMatchingSignature)
    );
}

#[test]
fn a_valid_signature_in_the_last_allowed_entry_is_accepted() {
    let secret = Secret::from_bytes(b"rotation key".to_vec());
    let secrets = SecretSet::single(secret.clone());
    let valid = sign(&secret, "msg", 10, b"{}");
    let mut entries =
        vec!["v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="; MAX_SIGNATURE_ENTRIES - 1];
    entries.push(&valid);
    let header = entries.join(" ");
    let verified = verify(
        headers("msg", "10", &header),
        b"{}",
        &secrets,
        10,
        TOLERANCE,
    );
    assert!(verified.is_ok());
    let over = format!("v1,AAAA {header}");
    assert_eq!(
        verify(headers("msg", "10", &over), b"{}", &secrets, 10, TOLERANCE),
        Err(Rejection::TooManySignatures {
            max: MAX_SIGNATURE_ENTRIES
        })
    );
    assert!(
        Rejection::TooManySignatures {
            max: MAX_SIGNATURE_ENTRIES
        }
        .is_malformed()
    );
}

#[test]
fn too_many_entries_are_refused_before_the_timestamp_is_judged() {
    // The bound is decided before anything costly, also for a stale request.
    let secrets = SecretSet::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("valid");
    let header = vec!["v1,AAAA"; 12_000].join(" ");
    assert_eq!(
        verify(
            headers("msg", "1", &header),
            b"",
            &secrets,
            1_000_000,
            TOLERANCE
        ),
        Err(Rejection::TooManySignatures {
            max: MAX_SIGNATURE_ENTRIES
        })
    );
}
