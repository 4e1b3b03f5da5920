//! What the real sender does: v1a (ed25519) signatures, signature headers
//! at the entry bound, large bodies, trailing slashes, portal test
//! messages; and settings refused at start.

use producer_projector::EndpointSecrets;
use producer_projector::send_example::send_example;
use serde_json::json;
use webhook_verify::{MAX_SIGNATURE_ENTRIES, SigningKey, sign};

use crate::support::*;

/// A key pair made from the operating system's randomness, as a sender
/// makes one.
fn fresh_key_pair() -> SigningKey {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the OS has randomness");
    SigningKey::from_seed(seed)
}

#[tokio::test]
async fn v1a_deliveries_verify_against_configured_public_keys_beside_secrets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = fresh_key_pair();
    let whsk = key.to_whsk();
    let whpk = key.public_key().to_whpk();
    let mut config = test_config(&dir);
    // A mix: the HMAC secret and the public key, in one variable.
    config.secrets =
        EndpointSecrets::parse(Some(&format!("{SECRET} {whpk}")), None, None).expect("valid mix");
    let server = TestServer::start(config).await;

    let v1a = server
        .deliver_signed(
            "/webhooks/agentsync",
            "msg_v1a",
            now_secs(),
            &activated("e1", "11"),
            &whsk,
        )
        .await;
    assert_eq!(v1a.status, 200, "{v1a:?}");
    assert_eq!(v1a.json["status"], "accepted");
    let v1 = server
        .deliver_signed(
            "/webhooks/agentsync",
            "msg_v1",
            now_secs(),
            &activated("e2", "12"),
            SECRET,
        )
        .await;
    assert_eq!(v1.status, 200, "{v1:?}");

    // A v1a signature by another key pair is a forgery.
    let other = fresh_key_pair().to_whsk();
    let forged = server
        .deliver_signed(
            "/webhooks/agentsync",
            "msg_f",
            now_secs(),
            &activated("e3", "13"),
            &other,
        )
        .await;
    assert_eq!((forged.status, forged.code()), (401, "signature_mismatch"));

    // send-example signs with a whsk_ key.
    let report = send_example(
        &server.url("/webhooks/agentsync"),
        &signer(&whsk),
        "producersync.npn.activated",
        Some("14"),
    )
    .await
    .expect("sent");
    assert_eq!(report.status, 200, "{}", report.body);
    let data = server.query("{ activeNpns }", json!({})).await;
    assert_eq!(data["activeNpns"], json!(["11", "12", "14"]));
    server.stop().await;
}

#[tokio::test]
async fn a_signing_key_is_refused_at_start_and_never_printed() {
    use clap::Parser;
    let whsk = fresh_key_pair().to_whsk();
    let cli = producer_projector::cli::Cli::try_parse_from([
        "producer-projector",
        "--webhook-secret",
        &format!("{SECRET},{whsk}"),
    ])
    .expect("parses");
    let error = cli.serve.to_config().expect_err("a signing key");
    let text = error.to_string();
    assert!(text.contains("PROJECTOR_WEBHOOK_SECRET"), "{text}");
    assert!(text.contains("whpk_"), "{text}");
    assert!(!text.contains(&whsk[5..20]), "{text}");
}

#[tokio::test]
async fn a_valid_signature_in_the_last_of_32_entries_is_accepted_and_33_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let timestamp = now_secs();
    let body = activated("e32", "32");
    let valid = sign(&secret(SECRET), "msg_32", timestamp, &body);
    let mut entries = vec![
        "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".to_owned();
        MAX_SIGNATURE_ENTRIES - 1
    ];
    entries.push(valid);
    let headers = |id: &str, entries: &[String]| {
        vec![
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            ("webhook-signature", entries.join(" ")),
        ]
    };
    let accepted = server
        .post_with_headers(
            "/webhooks/agentsync",
            &headers("msg_32", &entries),
            body.clone(),
        )
        .await;
    assert_eq!(accepted.status, 200, "{accepted:?}");
    entries.insert(0, "v1,AAAA".to_owned());
    let refused = server
        .post_with_headers("/webhooks/agentsync", &headers("msg_33", &entries), body)
        .await;
    assert_eq!(
        (refused.status, refused.code()),
        (400, "malformed_signature")
    );
    assert_eq!(server.log().await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn what_the_sender_can_send_is_taken_at_the_default_limits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    // A 1.1 MB event: the sender sends up to about 2 MiB.
    let padding = "x".repeat(1_100_000);
    let big = envelope(
        "big",
        "id.producer.updated",
        "2025-07-24T22:51:05Z",
        json!({"npn": "77", "notes": padding}),
    );
    assert!(big.len() > 1_100_000);
    let answer = server.deliver("/webhooks/agentsync", "msg_big", &big).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    // A registration with a trailing slash works on every webhook path.
    for (n, path) in [
        "/webhooks/agentsync/",
        "/webhooks/psapi/",
        "/webhooks/contracting/",
    ]
    .iter()
    .enumerate()
    {
        let body = activated(&format!("slash{n}"), &format!("{}", 80 + n));
        let answer = server.deliver(path, &format!("msg_slash{n}"), &body).await;
        assert_eq!(answer.status, 200, "{path}: {answer:?}");
    }
    let sources: Vec<String> = server.log().await.into_iter().map(|e| e.source).collect();
    assert_eq!(
        sources,
        [
            "/webhooks/agentsync",
            "/webhooks/agentsync",
            "/webhooks/psapi",
            "/webhooks/contracting"
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn portal_test_messages_are_kept_and_counted_as_test_deliveries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    // svix.ping's payload as the portal's "Send Example" posts it, and an
    // envelope of that type.
    let pings: [&[u8]; 2] = [
        br#"{"success": true}"#,
        br#"{"id":"msg_p","type":"svix.ping","data":{"success":true}}"#,
    ];
    for (n, body) in pings.iter().enumerate() {
        let answer = server
            .deliver("/webhooks/agentsync", &format!("msg_ping{n}"), body)
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
    }
    let unknown = envelope(
        "u1",
        "producersync.something_new",
        "2025-07-24T22:51:05Z",
        json!({}),
    );
    server
        .deliver("/webhooks/agentsync", "msg_unknown", &unknown)
        .await;
    let data = server
        .query(
            "{ stats { eventsInLog unfoldedEvents testDeliveries } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["stats"],
        json!({"eventsInLog": 3, "unfoldedEvents": 1, "testDeliveries": 2})
    );
    let page = server
        .client
        .get(server.url("/"))
        .send()
        .await
        .expect("status page")
        .text()
        .await
        .expect("text");
    assert!(page.contains(r#"id="test-deliveries">2<"#), "{page}");
    assert!(page.contains(r#"id="unfolded">1<"#), "{page}");
    server.stop().await;
}

#[test]
fn settings_that_make_no_sense_are_refused_naming_the_variable() {
    use clap::Parser;
    for (flag, variable) in [
        (
            "--max-inflight-deliveries",
            "PROJECTOR_MAX_INFLIGHT_DELIVERIES",
        ),
        ("--ack-deadline-ms", "PROJECTOR_ACK_DEADLINE_MS"),
        ("--max-body-bytes", "PROJECTOR_MAX_BODY_BYTES"),
        ("--max-inflight-graphql", "PROJECTOR_MAX_INFLIGHT_GRAPHQL"),
        ("--graphql-timeout-ms", "PROJECTOR_GRAPHQL_TIMEOUT_MS"),
        ("--max-ws-connections", "PROJECTOR_MAX_WS_CONNECTIONS"),
        ("--max-subscriptions", "PROJECTOR_MAX_SUBSCRIPTIONS"),
    ] {
        let cli = producer_projector::cli::Cli::try_parse_from([
            "producer-projector",
            "--webhook-secret",
            SECRET,
            flag,
            "0",
        ])
        .expect("parses");
        let error = cli.serve.to_config().expect_err("zero is refused");
        assert!(error.to_string().contains(variable), "{flag}: {error}");
    }
    let slow = producer_projector::cli::Cli::try_parse_from([
        "producer-projector",
        "--webhook-secret",
        SECRET,
        "--ack-deadline-ms",
        "5000",
    ])
    .expect("parses");
    let config = slow.serve.to_config().expect("5 s is allowed");
    let warnings = config.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("5 s"), "{warnings:?}");
    let default = producer_projector::cli::Cli::try_parse_from([
        "producer-projector",
        "--webhook-secret",
        SECRET,
    ])
    .expect("parses")
    .serve
    .to_config()
    .expect("defaults are valid");
    assert!(default.warnings().is_empty());
    assert_eq!(default.max_body_bytes, 4 * 1024 * 1024);
}
