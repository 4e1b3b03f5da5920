//! Ingest: verified deliveries appended to the log, everything else refused
//! with a stable code and nothing appended.

use std::process::Command;

use agentsync_events::example_types;
use producer_projector::EndpointSecrets;
use producer_projector::send_example::send_example;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn accepted_delivery_is_logged_with_its_keys_and_raw_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let body = activated("whe_1", "0019283746");
    let answer = server.deliver("/webhooks/agentsync", "msg_1", &body).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.json, json!({"status": "accepted", "position": 1}));

    let log = server.log().await;
    assert_eq!(log.len(), 1);
    let entry = &log[0];
    assert_eq!(entry.position, 1);
    assert_eq!(entry.webhook_id, "msg_1");
    assert_eq!(entry.event_id.as_deref(), Some("whe_1"));
    assert_eq!(
        entry.event_type.as_deref(),
        Some("producersync.npn.activated")
    );
    assert_eq!(entry.occurred_at, Some(1_753_397_465_206_000));
    assert_eq!(entry.source, "/webhooks/agentsync");
    assert_eq!(entry.npn.as_deref(), Some("19283746"));
    assert_eq!(entry.unfolded_reason, None);
    assert_eq!(entry.body, body);
    assert!(entry.received_at > 1_700_000_000_000_000);
    server.stop().await;
}

#[tokio::test]
async fn every_rejection_has_its_status_and_code_and_appends_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let body = activated("whe_r", "1");
    let now = now_secs();
    let good = sign_header("msg_r", now, &body, SECRET);
    let stamp = now.to_string();
    let cases: Vec<BadRequest> = vec![
        ("no headers", vec![], 400, "missing_header"),
        (
            "no id",
            vec![
                ("webhook-timestamp", stamp.clone()),
                ("webhook-signature", good.clone()),
            ],
            400,
            "missing_header",
        ),
        (
            "no timestamp",
            vec![
                ("webhook-id", "msg_r".into()),
                ("webhook-signature", good.clone()),
            ],
            400,
            "missing_header",
        ),
        (
            "no signature",
            vec![
                ("webhook-id", "msg_r".into()),
                ("webhook-timestamp", stamp.clone()),
            ],
            400,
            "missing_header",
        ),
        (
            "decimal timestamp",
            headers("msg_r", &format!("{now}.0"), &good),
            400,
            "invalid_timestamp",
        ),
        (
            "word timestamp",
            headers("msg_r", "soon", &good),
            400,
            "invalid_timestamp",
        ),
        (
            "signature without version",
            headers("msg_r", &stamp, good.trim_start_matches("v1,")),
            400,
            "malformed_signature",
        ),
        (
            "forged signature",
            headers(
                "msg_r",
                &stamp,
                "v1,R3PTzyfHASBKHH98a7yexTwaJ4yNIcGhFQc1yuN+BPU=",
            ),
            401,
            "signature_mismatch",
        ),
        (
            "wrong secret",
            headers(
                "msg_r",
                &stamp,
                &sign_header("msg_r", now, &body, OTHER_SECRET),
            ),
            401,
            "signature_mismatch",
        ),
        (
            "stale replay",
            headers(
                "msg_r",
                &(now - 301).to_string(),
                &sign_header("msg_r", now - 301, &body, SECRET),
            ),
            401,
            "stale_timestamp",
        ),
        (
            "future timestamp",
            headers(
                "msg_r",
                &(now + 400).to_string(),
                &sign_header("msg_r", now + 400, &body, SECRET),
            ),
            401,
            "future_timestamp",
        ),
    ];
    for (name, case_headers, status, code) in cases {
        let answer = server
            .post_with_headers("/webhooks/agentsync", &case_headers, body.clone())
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (status, code),
            "{name}: {answer:?}"
        );
        assert!(
            answer.json["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }
    assert!(
        server.log().await.is_empty(),
        "a rejected request appended something"
    );
    server.stop().await;
}

/// A bad request: its name, headers, and the expected status and code.
type BadRequest = (&'static str, Vec<(&'static str, String)>, u16, &'static str);

fn sign_header(id: &str, timestamp: i64, body: &[u8], secret_text: &str) -> String {
    webhook_verify::sign(&secret(secret_text), id, timestamp, body)
}

fn headers(id: &str, timestamp: &str, signature: &str) -> Vec<(&'static str, String)> {
    vec![
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_owned()),
        ("webhook-signature", signature.to_owned()),
    ]
}

#[tokio::test]
async fn svix_header_names_are_accepted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let body = activated("whe_s", "5");
    let now = now_secs();
    let svix = vec![
        ("svix-id", "msg_s".to_owned()),
        ("svix-timestamp", now.to_string()),
        ("svix-signature", sign_header("msg_s", now, &body, SECRET)),
    ];
    let answer = server
        .post_with_headers("/webhooks/agentsync", &svix, body)
        .await;
    assert_eq!(
        (answer.status, answer.json["status"].as_str()),
        (200, Some("accepted"))
    );
    server.stop().await;
}

#[tokio::test]
async fn duplicates_by_webhook_id_or_event_id_append_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let body = activated("whe_d", "7");
    let first = server.deliver("/webhooks/agentsync", "msg_d", &body).await;
    let retry = server.deliver("/webhooks/agentsync", "msg_d", &body).await;
    let same_event = server.deliver("/webhooks/psapi", "msg_other", &body).await;
    assert_eq!(first.json, json!({"status": "accepted", "position": 1}));
    assert_eq!(retry.json, json!({"status": "duplicate", "position": 1}));
    assert_eq!(
        same_event.json,
        json!({"status": "duplicate", "position": 1})
    );
    assert_eq!(server.log().await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn concurrent_retries_of_one_delivery_are_logged_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = std::sync::Arc::new(TestServer::start(test_config(&dir)).await);
    let body = activated("whe_c", "8");
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (server, body) = (server.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            server.deliver("/webhooks/agentsync", "msg_c", &body).await
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        let answer = task.await.expect("task");
        assert_eq!(
            (answer.status, answer.json["position"].as_i64()),
            (200, Some(1))
        );
        accepted += usize::from(answer.json["status"] == "accepted");
    }
    assert_eq!(accepted, 1);
    assert_eq!(server.log().await.len(), 1);
}

#[tokio::test]
async fn positions_are_gap_free_under_concurrent_deliveries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = std::sync::Arc::new(TestServer::start(test_config(&dir)).await);
    let mut tasks = Vec::new();
    for n in 0..64 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let body = activated(&format!("whe_g{n}"), &n.to_string());
            server
                .deliver("/webhooks/agentsync", &format!("msg_g{n}"), &body)
                .await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task").status, 200);
    }
    let positions: Vec<i64> = server.log().await.iter().map(|e| e.position).collect();
    assert_eq!(positions, (1..=64).collect::<Vec<_>>());
}

#[tokio::test]
async fn rotated_secrets_both_verify() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(&dir);
    config.secrets = EndpointSecrets::parse(Some(&format!("{OTHER_SECRET}, {SECRET}")), None, None)
        .expect("valid");
    let server = TestServer::start(config).await;
    let now = now_secs();
    let old = server
        .deliver_signed(
            "/webhooks/agentsync",
            "msg_old",
            now,
            &activated("e_old", "1"),
            SECRET,
        )
        .await;
    let new = server
        .deliver_signed(
            "/webhooks/agentsync",
            "msg_new",
            now,
            &activated("e_new", "2"),
            OTHER_SECRET,
        )
        .await;
    assert_eq!((old.status, new.status), (200, 200));
    server.stop().await;
}

#[tokio::test]
async fn per_path_secret_replaces_the_default_on_that_path_only() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(&dir);
    config.secrets = EndpointSecrets::parse(Some(SECRET), Some(OTHER_SECRET), None).expect("valid");
    let server = TestServer::start(config).await;
    let now = now_secs();
    let body = activated("e_p", "3");
    let psapi_default = server
        .deliver_signed("/webhooks/psapi", "m1", now, &body, SECRET)
        .await;
    let psapi_own = server
        .deliver_signed("/webhooks/psapi", "m2", now, &body, OTHER_SECRET)
        .await;
    let agentsync_other = server
        .deliver_signed(
            "/webhooks/agentsync",
            "m3",
            now,
            &activated("e_q", "4"),
            OTHER_SECRET,
        )
        .await;
    let contracting_default = server
        .deliver_signed(
            "/webhooks/contracting",
            "m4",
            now,
            &activated("e_r", "5"),
            SECRET,
        )
        .await;
    assert_eq!(psapi_default.code(), "signature_mismatch");
    assert_eq!(psapi_own.status, 200);
    assert_eq!(agentsync_other.code(), "signature_mismatch");
    assert_eq!(contracting_default.status, 200);
    let sources: Vec<String> = server.log().await.into_iter().map(|e| e.source).collect();
    assert_eq!(sources, ["/webhooks/psapi", "/webhooks/contracting"]);
    server.stop().await;
}

#[tokio::test]
async fn unknown_type_and_non_json_bodies_are_kept_and_flagged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let unknown = envelope(
        "e_u",
        "producersync.something_new",
        "2025-07-24T22:51:05Z",
        json!({"npn": "9"}),
    );
    let first = server
        .deliver("/webhooks/agentsync", "msg_u", &unknown)
        .await;
    let second = server
        .deliver("/webhooks/agentsync", "msg_n", b"\xff not json at all")
        .await;
    assert_eq!((first.status, second.status), (200, 200));
    let log = server.log().await;
    assert_eq!(log[0].unfolded_reason.as_deref(), Some("unknown_type"));
    assert_eq!(log[0].npn.as_deref(), Some("9"));
    assert_eq!(log[1].unfolded_reason.as_deref(), Some("not_json"));
    assert_eq!(log[1].body, b"\xff not json at all");
    server.stop().await;
}

#[tokio::test]
async fn oversized_body_is_refused_with_413() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(&dir);
    config.max_body_bytes = 1024;
    let server = TestServer::start(config).await;
    let big = envelope(
        "e_big",
        "id.producer.updated",
        "2025-07-24T22:51:05Z",
        json!({"npn": "1", "bio": "x".repeat(2000)}),
    );
    let answer = server.deliver("/webhooks/agentsync", "msg_big", &big).await;
    assert_eq!((answer.status, answer.code()), (413, "payload_too_large"));
    let small = server
        .deliver("/webhooks/agentsync", "msg_small", &activated("e_s", "1"))
        .await;
    assert_eq!(small.status, 200);
    assert_eq!(server.log().await.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_answer_json_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let unknown_endpoint = server.deliver("/webhooks/elsewhere", "m", b"{}").await;
    assert_eq!(
        (unknown_endpoint.status, unknown_endpoint.code()),
        (404, "not_found")
    );
    let get = server
        .client
        .get(server.url("/webhooks/agentsync"))
        .send()
        .await
        .expect("answered");
    assert_eq!(get.status().as_u16(), 405);
    let body: serde_json::Value = get.json().await.expect("json");
    assert_eq!(body["code"], "method_not_allowed");
    server.stop().await;
}

#[tokio::test]
async fn data_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let body = activated("e_keep", "11");
    assert_eq!(
        server
            .deliver("/webhooks/agentsync", "msg_keep", &body)
            .await
            .status,
        200
    );
    server.stop().await;

    let again = TestServer::start(test_config(&dir)).await;
    let retry = again
        .deliver("/webhooks/agentsync", "msg_keep", &body)
        .await;
    assert_eq!(retry.json, json!({"status": "duplicate", "position": 1}));
    let next = again
        .deliver(
            "/webhooks/agentsync",
            "msg_next",
            &activated("e_next", "12"),
        )
        .await;
    assert_eq!(next.json, json!({"status": "accepted", "position": 2}));
    again.stop().await;
}

#[tokio::test]
async fn read_only_database_answers_503_and_a_later_retry_succeeds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(sqlite_config(&dir)).await;
    assert_eq!(
        server
            .deliver("/webhooks/agentsync", "msg_a", &activated("e_a", "1"))
            .await
            .status,
        200
    );
    let database = server.database_path();
    let wal = database.with_extension("db-wal");
    let files = [database.as_path(), wal.as_path()];
    set_immutable(&files, true);
    let body = activated("e_b", "2");
    let refused = server.deliver("/webhooks/agentsync", "msg_b", &body).await;
    set_immutable(&files, false);
    assert_eq!(
        (refused.status, refused.code()),
        (503, "store_unavailable"),
        "{refused:?}"
    );
    assert_eq!(refused.retry_after.as_deref(), Some("5"));

    let retried = server.deliver("/webhooks/agentsync", "msg_b", &body).await;
    assert_eq!(retried.json, json!({"status": "accepted", "position": 2}));
    server.stop().await;
}

/// Makes files read-only even for root (the immutable attribute).
fn set_immutable(files: &[&std::path::Path], on: bool) {
    let flag = if on { "+i" } else { "-i" };
    for file in files {
        let status = Command::new("chattr")
            .arg(flag)
            .arg(file)
            .status()
            .expect("chattr runs");
        assert!(status.success(), "chattr {flag} {}", file.display());
    }
}

#[tokio::test]
async fn send_example_posts_every_example_type() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let types = example_types();
    for event_type in &types {
        let report = send_example(
            &server.url("/webhooks/agentsync"),
            &signer(SECRET),
            event_type,
            Some("555"),
        )
        .await
        .expect("sent");
        assert_eq!(report.status, 200, "{event_type}: {}", report.body);
    }
    let log = server.log().await;
    assert_eq!(log.len(), types.len());
    assert!(log.iter().all(|entry| entry.unfolded_reason.is_none()));
    server.stop().await;
}

#[test]
fn serve_refuses_a_malformed_secret_naming_the_variable_only() {
    use clap::Parser;
    let cli = producer_projector::cli::Cli::try_parse_from([
        "producer-projector",
        "--webhook-secret",
        "whsec_TopSecretButBroken!",
    ])
    .expect("parses");
    let error = cli.serve.to_config().expect_err("malformed secret");
    let text = error.to_string();
    assert!(text.contains("PROJECTOR_WEBHOOK_SECRET"), "{text}");
    assert!(!text.contains("TopSecret"), "{text}");
}
