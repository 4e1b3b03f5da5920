//! Hostile input: every bad request has its status and stable code and
//! appends nothing; GraphQL bombs are refused; floods are shed; a full
//! database answers 503 and never 200.

use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

fn with(
    headers: &[(&'static str, String)],
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = headers
        .iter()
        .filter(|(n, _)| *n != name)
        .cloned()
        .collect();
    out.push((name, value.to_owned()));
    out
}

fn without(headers: &[(&'static str, String)], name: &str) -> Vec<(&'static str, String)> {
    headers
        .iter()
        .filter(|(n, _)| *n != name)
        .cloned()
        .collect()
}

/// One bad request and what it must get.
struct Case {
    name: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

#[tokio::test]
async fn bad_webhook_requests_get_their_status_and_code_and_append_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(&dir);
    config.max_body_bytes = 64 * 1024;
    let server = TestServer::start(config).await;
    let body = envelope(
        "h1",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1"}),
    );
    let now = now_secs();
    let good = signed_headers("msg_h", now, &body, SECRET);
    let signature_of = |value: &str| with(&good, "webhook-signature", value);
    let valid_v1 = good[2].1.clone();
    let cases = vec![
        Case {
            name: "no headers",
            headers: vec![],
            body: body.clone(),
            status: 400,
            code: "missing_header",
        },
        Case {
            name: "no webhook-id",
            headers: without(&good, "webhook-id"),
            body: body.clone(),
            status: 400,
            code: "missing_header",
        },
        Case {
            name: "no webhook-timestamp",
            headers: without(&good, "webhook-timestamp"),
            body: body.clone(),
            status: 400,
            code: "missing_header",
        },
        Case {
            name: "no webhook-signature",
            headers: without(&good, "webhook-signature"),
            body: body.clone(),
            status: 400,
            code: "missing_header",
        },
        Case {
            name: "empty timestamp",
            headers: with(&good, "webhook-timestamp", ""),
            body: body.clone(),
            status: 400,
            code: "missing_header",
        },
        Case {
            name: "non-numeric timestamp",
            headers: with(&good, "webhook-timestamp", "yesterday"),
            body: body.clone(),
            status: 400,
            code: "invalid_timestamp",
        },
        Case {
            name: "decimal timestamp",
            headers: with(&good, "webhook-timestamp", &format!("{now}.5")),
            body: body.clone(),
            status: 400,
            code: "invalid_timestamp",
        },
        Case {
            name: "far-future timestamp",
            headers: signed_headers("msg_h", now + 10 * 365 * 86_400, &body, SECRET),
            body: body.clone(),
            status: 401,
            code: "future_timestamp",
        },
        Case {
            name: "signature not base64",
            headers: signature_of("v1,%%%not-base64%%%"),
            body: body.clone(),
            status: 401,
            code: "signature_mismatch",
        },
        Case {
            name: "signature of the wrong length",
            headers: signature_of("v1,AAAA"),
            body: body.clone(),
            status: 401,
            code: "signature_mismatch",
        },
        Case {
            name: "empty after v1,",
            headers: signature_of("v1,"),
            body: body.clone(),
            status: 401,
            code: "signature_mismatch",
        },
        Case {
            name: "unknown version only",
            headers: signature_of(&valid_v1.replacen("v1,", "v2,", 1)),
            body: body.clone(),
            status: 401,
            code: "signature_mismatch",
        },
        Case {
            name: "no version at all",
            headers: signature_of(valid_v1.trim_start_matches("v1,")),
            body: body.clone(),
            status: 400,
            code: "malformed_signature",
        },
        Case {
            name: "replay older than the tolerance",
            headers: signed_headers("msg_h", now - 301, &body, SECRET),
            body: body.clone(),
            status: 401,
            code: "stale_timestamp",
        },
        Case {
            name: "body over the limit",
            headers: signed_headers("msg_big", now, &vec![b'x'; 65 * 1024], SECRET),
            body: vec![b'x'; 65 * 1024],
            status: 413,
            code: "payload_too_large",
        },
        Case {
            name: "100 KB signature header",
            headers: signature_of(&format!("v1,{}", "A".repeat(100 * 1024))),
            body: body.clone(),
            status: 401,
            code: "signature_mismatch",
        },
    ];
    let mut table = Vec::new();
    for case in cases {
        let answer = server
            .post_with_headers("/webhooks/agentsync", &case.headers, case.body)
            .await;
        assert_eq!(
            (answer.status, answer.code()),
            (case.status, case.code),
            "{}: {answer:?}",
            case.name
        );
        table.push(format!(
            "| {} | {} | {} |",
            case.name, case.status, case.code
        ));
    }
    let get = server
        .client
        .get(server.url("/webhooks/agentsync"))
        .send()
        .await
        .expect("answered");
    assert_eq!(get.status().as_u16(), 405);
    let unknown = server
        .post_with_headers("/webhooks/nowhere", &good, body.clone())
        .await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    table.push("| wrong method (GET) | 405 | method_not_allowed |".to_owned());
    table.push("| unknown path | 404 | not_found |".to_owned());
    println!("{}", table.join("\n"));
    assert!(
        server.log().await.is_empty(),
        "a refused request appended something"
    );

    // The same delivery, untouched, is still accepted afterwards.
    let accepted = server
        .post_with_headers("/webhooks/agentsync", &good, body)
        .await;
    assert_eq!(accepted.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn signed_but_strange_bodies_are_kept_flagged_and_the_server_is_unaffected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let invalid_utf8 = b"{\"id\": \"\xff\xfe\"}".to_vec();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes();
    for (id, body) in [("msg_utf8", invalid_utf8), ("msg_deep", deep)] {
        let answer = server.deliver("/webhooks/agentsync", id, &body).await;
        assert_eq!(answer.json["status"], "accepted", "{id}");
    }
    let log = server.log().await;
    assert!(
        log.iter()
            .all(|e| e.unfolded_reason.as_deref() == Some("not_json"))
    );
    let health = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status().as_u16(), 200);
    server.stop().await;
}

/// Sends raw bytes and returns the status line's code (0 when none).
async fn raw_request(
    server: &TestServer,
    head: String,
    body_parts: Vec<(Vec<u8>, Duration)>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(server.address).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    for (part, pause) in body_parts {
        tokio::time::sleep(pause).await;
        if stream.write_all(&part).await.is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

fn head(server: &TestServer, headers: &[(&str, String)], extra: &str) -> String {
    let mut text = format!(
        "POST /webhooks/agentsync HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        server.address
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str(extra);
    text.push_str("\r\n");
    text
}

#[tokio::test]
async fn lying_content_lengths_and_slow_bodies_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(&dir);
    config.max_body_bytes = 64 * 1024;
    config.ack_deadline = Duration::from_millis(800);
    let server = TestServer::start(config).await;
    let body = envelope(
        "s1",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1"}),
    );
    let headers = signed_headers("msg_s", now_secs(), &body, SECRET);

    // Claims more than the limit: refused before the body is read.
    let (status, text) = raw_request(
        &server,
        head(&server, &headers, "Content-Length: 10000000\r\n"),
        vec![],
    )
    .await;
    assert_eq!(status, 413, "{text}");
    // Claims less than it sends: only the claimed bytes are read, and they are not what was signed.
    let (status, text) = raw_request(
        &server,
        head(&server, &headers, "Content-Length: 20\r\n"),
        vec![(vec![b'x'; 200_000], Duration::ZERO)],
    )
    .await;
    assert_eq!(status, 401, "{text}");
    // No Content-Length, chunked, over the limit: refused while streaming.
    let chunk = format!("{:x}\r\n{}\r\n", 70 * 1024, "y".repeat(70 * 1024)).into_bytes();
    let (status, text) = raw_request(
        &server,
        head(&server, &headers, "Transfer-Encoding: chunked\r\n"),
        vec![(chunk, Duration::ZERO)],
    )
    .await;
    assert_eq!(status, 413, "{text}");
    // A body sent slowly past the answer deadline: 503, never a late 200.
    let (first, rest) = body.split_at(10);
    let parts = vec![
        (first.to_vec(), Duration::ZERO),
        (rest.to_vec(), Duration::from_millis(1_500)),
    ];
    let length = format!("Content-Length: {}\r\n", body.len());
    let (status, text) = raw_request(&server, head(&server, &headers, &length), parts).await;
    assert_eq!(status, 503, "{text}");
    assert!(text.contains("commit_deadline_exceeded"), "{text}");
    assert!(server.log().await.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_flood_beyond_the_limit_is_shed_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(&dir);
    config.limits.max_inflight_deliveries = 1;
    config.ack_deadline = Duration::from_secs(4);
    let server = TestServer::start(config).await;
    let body = envelope(
        "f1",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1"}),
    );
    let headers = signed_headers("msg_f1", now_secs(), &body, SECRET);
    // Occupy the only slot with a body that trickles in.
    let slow_head = head(
        &server,
        &headers,
        &format!("Content-Length: {}\r\n", body.len()),
    );
    let slow_server_address = server.address;
    let slow_body = body.clone();
    let slow = tokio::spawn(async move {
        let mut stream = TcpStream::connect(slow_server_address)
            .await
            .expect("connect");
        stream.write_all(slow_head.as_bytes()).await.expect("head");
        tokio::time::sleep(Duration::from_millis(2_000)).await;
        stream.write_all(&slow_body).await.expect("body");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        String::from_utf8_lossy(&answer).into_owned()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = std::time::Instant::now();
    let other = envelope(
        "f2",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "2"}),
    );
    let shed = server
        .deliver("/webhooks/agentsync", "msg_f2", &other)
        .await;
    assert_eq!((shed.status, shed.code()), (503, "overloaded"));
    assert_eq!(shed.retry_after.as_deref(), Some("5"));
    assert!(
        started.elapsed() < Duration::from_millis(1_000),
        "shedding must be immediate"
    );
    // GraphQL has its own limit: dashboards still answer while ingest is full.
    assert!(
        server
            .graphql_as("{ stats { eventsInLog } }", json!({}), None)
            .await
            .get("errors")
            .is_none()
    );
    let slow_answer = slow.await.expect("slow task");
    assert!(slow_answer.starts_with("HTTP/1.1 200"), "{slow_answer}");
    server.stop().await;
}

#[tokio::test]
async fn graphql_bombs_are_refused_and_the_server_is_unaffected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let depth_bomb = format!(
        "{{ __schema {{ types {{ fields {{ type {} name {} }} }} }} }}",
        "{ ofType ".repeat(20),
        "}".repeat(20)
    );
    let aliases: String = (0..200)
        .map(|n| format!("a{n}: producers(first: 100) {{ totalCount }} "))
        .collect();
    let alias_bomb = format!("{{ {aliases} }}");
    let complexity_bomb = "{ producers(first: 500) { edges { node { history(first: 500) { edges { node { payload } } } } } } }".to_owned();
    for (name, query, expected) in [
        ("depth", depth_bomb, "nested too deep"),
        ("aliases", alias_bomb, "too complex"),
        ("complexity", complexity_bomb, "too complex"),
    ] {
        let answer = server.graphql_as(&query, json!({}), None).await;
        let message = answer["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(expected), "{name}: {answer}");
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{name}"
        );
    }
    let huge = format!("{{ stats {{ eventsInLog }} }} # {}", "x".repeat(100 * 1024));
    let oversized = server
        .client
        .post(server.url("/graphql"))
        .json(&json!({"query": huge}))
        .send()
        .await
        .expect("answered");
    assert_eq!(oversized.status().as_u16(), 413);
    let batch = server
        .client
        .post(server.url("/graphql"))
        .json(&json!([{"query": "{ stats { eventsInLog } }"}, {"query": "{ activeNpns }"}]))
        .send()
        .await
        .expect("answered");
    assert_eq!(
        batch.status().as_u16(),
        400,
        "batched queries are not accepted"
    );
    let still_fine: Value = server.query("{ stats { eventsInLog } }", json!({})).await;
    assert_eq!(still_fine["stats"]["eventsInLog"], 0);
    server.stop().await;
}

#[tokio::test]
async fn a_full_database_answers_503_never_200_and_retries_succeed_once_cleared() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(sqlite_config(&dir)).await;
    server.stop().await;
    let pages = std::fs::metadata(dir.path().join("log.db"))
        .map(|m| m.len() / 4096)
        .unwrap_or(0) as u32;
    let mut config = sqlite_config(&dir);
    config.max_database_pages = Some(pages + 8);
    let server = TestServer::start(config).await;
    let small = envelope(
        "small",
        "id.producer.updated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "5"}),
    );
    let fitted = server
        .deliver("/webhooks/agentsync", "msg_small", &small)
        .await;
    assert_eq!(fitted.json["status"], "accepted", "{fitted:?}");
    let padding = "p".repeat(8 * 1024);
    let mut refused = Vec::new();
    let mut accepted = vec!["msg_small".to_owned()];
    for n in 0..40 {
        let body = envelope(
            &format!("full{n}"),
            "id.producer.updated",
            "2025-07-01T00:00:00Z",
            json!({"npn": "5", "bio": padding}),
        );
        let id = format!("msg_full{n}");
        let answer = server.deliver("/webhooks/agentsync", &id, &body).await;
        match answer.status {
            200 => accepted.push(id),
            503 => {
                assert_eq!(answer.code(), "store_unavailable");
                refused.push((id, body));
            }
            other => panic!("unexpected {other}: {answer:?}"),
        }
    }
    assert!(!refused.is_empty(), "the cap was never reached");
    // The writer outlives its failed commits: a retry of a delivery that
    // fitted before the cap is still answered from the log.
    let retry = server
        .deliver("/webhooks/agentsync", "msg_small", &small)
        .await;
    assert_eq!(retry.json["status"], "duplicate", "{retry:?}");
    server.stop().await;

    let server = TestServer::start(sqlite_config(&dir)).await;
    for (id, body) in &refused {
        let answer = server.deliver("/webhooks/agentsync", id, body).await;
        assert_eq!(answer.json["status"], "accepted", "{id}");
    }
    let logged: Vec<String> = server
        .log()
        .await
        .into_iter()
        .map(|e| e.webhook_id)
        .collect();
    assert_eq!(logged.len(), accepted.len() + refused.len());
    for id in accepted.iter().chain(refused.iter().map(|(id, _)| id)) {
        assert_eq!(logged.iter().filter(|l| *l == id).count(), 1, "{id}");
    }
    let positions: Vec<i64> = server.log().await.iter().map(|e| e.position).collect();
    assert_eq!(positions, (1..=logged.len() as i64).collect::<Vec<_>>());
    server.stop().await;
}
