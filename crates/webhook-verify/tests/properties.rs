//! Properties of the verifier over random deliveries, secrets and clocks.

use proptest::prelude::*;
use webhook_verify::{DeliveryHeaders, Rejection, Secret, SecretSet, sign, verify};

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
