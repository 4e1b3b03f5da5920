//! The signature header parser and the verifier never panic, and never
//! accept a delivery that was not signed with the secret.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use webhook_verify::{DeliveryHeaders, SecretSet, parse_signature_header, verify};

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    id: &'a str,
    timestamp: &'a str,
    signature: &'a str,
    body: &'a [u8],
    now: i64,
    tolerance: u16,
}

fuzz_target!(|input: Input<'_>| {
    let _ = parse_signature_header(input.signature);
    let Ok(secrets) = SecretSet::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") else {
        return;
    };
    let headers = DeliveryHeaders {
        id: Some(input.id),
        timestamp: Some(input.timestamp),
        signature: Some(input.signature),
    };
    // Random input cannot forge an HMAC: acceptance would be a bug.
    assert!(verify(headers, input.body, &secrets, input.now, u64::from(input.tolerance)).is_err());
    let _ = SecretSet::parse(input.signature);
});
