//! Bounded work per request: unsigned signature floods, GraphQL documents
//! that would read the log many times over, requests given up at the
//! GraphQL timeout, and WebSocket connections and subscriptions.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

/// Polls `/healthz` every 50 ms until stopped; returns the slowest answer.
fn poll_healthz(server: &TestServer, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Duration> {
    let client = reqwest::Client::new();
    let url = server.url("/healthz");
    tokio::spawn(async move {
        let mut slowest = Duration::ZERO;
        while !stop.load(Ordering::SeqCst) {
            let started = Instant::now();
            let answer = client.get(&url).send().await.expect("healthz answers");
            assert_eq!(answer.status().as_u16(), 200);
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        slowest
    })
}

/// Posts `count` concurrent unsigned requests with a 1 MB body and a
/// signature header of `entries` copies of `entry`; returns each one's
/// status, code and time to answer.
async fn unsigned_flood(
    server: &TestServer,
    count: usize,
    entry: &str,
    entries: usize,
) -> Vec<(u16, String, Duration)> {
    let body = vec![b'a'; 1_000_000];
    let signature = vec![entry; entries].join(" ");
    let requests = (0..count).map(|n| {
        let headers = vec![
            ("webhook-id", format!("msg_flood_{entries}_{n}")),
            ("webhook-timestamp", now_secs().to_string()),
            ("webhook-signature", signature.clone()),
        ];
        let body = body.clone();
        async move {
            let started = Instant::now();
            let answer = server
                .post_with_headers("/webhooks/agentsync", &headers, body)
                .await;
            (answer.status, answer.code().to_owned(), started.elapsed())
        }
    });
    futures::future::join_all(requests).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_signature_floods_are_answered_at_once_and_healthz_never_stalls() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(&dir);
    // Two secrets (a rotation) make each body cost two HMACs.
    config.secrets = producer_projector::EndpointSecrets::parse(
        Some(&format!("{SECRET} {OTHER_SECRET}")),
        None,
        None,
    )
    .expect("valid");
    let server = TestServer::start(config).await;
    let stop = Arc::new(AtomicBool::new(false));
    let poller = poll_healthz(&server, stop.clone());
    tokio::time::sleep(Duration::from_millis(120)).await;
    // The reviewed attack: 12,000 `v1,AAAA` entries, ~96 KB.
    let over_the_bound = unsigned_flood(&server, 8, "v1,AAAA", 12_000).await;
    // At the bound: 32 well-formed tags, each compared with both secrets'.
    let tag = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let at_the_bound = unsigned_flood(&server, 8, tag, 32).await;
    stop.store(true, Ordering::SeqCst);
    let slowest_healthz = poller.await.expect("poller");
    for (status, code, took) in &over_the_bound {
        assert_eq!((*status, code.as_str()), (400, "malformed_signature"));
        assert!(*took < Duration::from_secs(1), "answered after {took:?}");
    }
    for (status, code, took) in &at_the_bound {
        assert_eq!((*status, code.as_str()), (401, "signature_mismatch"));
        assert!(*took < Duration::from_secs(1), "answered after {took:?}");
    }
    let slowest = |answers: &[(u16, String, Duration)]| answers.iter().map(|a| a.2).max();
    println!(
        "slowest answer: {:?} over the bound, {:?} at the bound; slowest /healthz {slowest_healthz:?}",
        slowest(&over_the_bound),
        slowest(&at_the_bound)
    );
    assert!(
        slowest_healthz < Duration::from_millis(100),
        "/healthz took {slowest_healthz:?}"
    );
    assert!(server.log().await.is_empty());
    server.stop().await;
}

/// Producers in the generated log, and events per producer.
const PRODUCERS: usize = 20_000;
const EVENTS_PER_PRODUCER: usize = 10;

fn aliases(count: usize, field: &str) -> String {
    let fields: String = (0..count).map(|n| format!("a{n}: {field} ")).collect();
    format!("{{ {fields} }}")
}

const SERIES: &str = r#"activeCountSeries(from: "2025-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z", bucket: DAY) { at activeCount }"#;
const AS_OF: &str = r#"activeNpns(asOf: "2025-07-01T00:00:00Z")"#;

/// A dashboard's document: one series, one activity range, one time-travel
/// lookup and the counts.
const DASHBOARD: &str = r#"{
  activeCountSeries(from: "2025-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z", bucket: DAY) { at activeCount }
  activity(from: "2025-06-01T00:00:00Z", to: "2025-07-01T00:00:00Z", bucket: DAY) { start activations deactivations profileChanges }
  producer(npn: "1005", asOf: "2025-06-01T00:00:00Z") { status }
  stats { activeCount eventsInLog }
}"#;

async fn timed(server: &TestServer, query: &str) -> (Value, Duration) {
    let started = Instant::now();
    let answer = server.graphql_as(query, json!({}), None).await;
    (answer, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_that_read_the_log_are_priced_and_given_up_work_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(&dir);
    let started = Instant::now();
    generate_log(&config.database_url, PRODUCERS, EVENTS_PER_PRODUCER).await;
    let server = TestServer::start(config.clone()).await;
    println!(
        "generated and folded {} events in {:?}",
        PRODUCERS * EVENTS_PER_PRODUCER,
        started.elapsed()
    );
    let (legit, legit_took) = timed(&server, DASHBOARD).await;
    assert!(legit.get("errors").is_none(), "{legit}");
    assert_eq!(
        legit["data"]["activeCountSeries"].as_array().map(Vec::len),
        Some(365)
    );
    assert_eq!(legit["data"]["stats"]["eventsInLog"], 200_000);
    println!("a dashboard's document (series, activity, time travel, stats): {legit_took:?}");

    for (name, bomb) in [
        ("series", aliases(50, SERIES)),
        ("asOf", aliases(50, AS_OF)),
    ] {
        let (answer, took) = timed(&server, &bomb).await;
        let message = answer["errors"][0]["message"].as_str().unwrap_or_default();
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED",
            "{name}: {answer}"
        );
        assert!(
            message.contains("too complex") && message.contains("5000"),
            "{name}: {message}"
        );
        assert!(answer["data"].is_null(), "{name}: nothing was run");
        assert!(
            took < Duration::from_millis(500),
            "{name} refused after {took:?}"
        );
        println!("50 aliases of {name}: refused in {took:?}: {message}");
        let (normal, took) = timed(&server, r#"{ producer(npn: "1005") { status } }"#).await;
        assert!(normal.get("errors").is_none(), "{normal}");
        assert!(
            took < Duration::from_millis(500),
            "a normal query after a bomb took {took:?}"
        );
    }
    server.stop().await;

    // The same database behind a server whose GraphQL timeout is short:
    // requests that run past it are answered 503, and their reads stop
    // with them, so the read pool is free at once for the next request.
    let mut config = config;
    config.limits.graphql_timeout = Duration::from_millis(100);
    let server = TestServer::start(config).await;
    let heavy = format!(
        "{{ {} }}",
        (0..4)
            .map(|n| format!("s{n}: {SERIES} "))
            .collect::<String>()
    );
    let given_up = futures::future::join_all((0..8).map(|_| async {
        server
            .client
            .post(server.url("/graphql"))
            .json(&json!({"query": heavy}))
            .send()
            .await
            .expect("answered")
            .status()
            .as_u16()
    }))
    .await;
    assert!(given_up.iter().all(|status| *status == 503), "{given_up:?}");
    // Had the given-up reads gone on, the four pool connections would be
    // busy for many seconds (one such document alone takes seconds), and
    // every request would time out. The statements in flight when they
    // were given up finish first (one range of positions each), so the
    // pool is free within a fraction of a second: a loaded machine (or
    // PostgreSQL, whose rows cost more to convert) may need a retry.
    let started = Instant::now();
    let answer = loop {
        let answer = server
            .client
            .post(server.url("/graphql"))
            .json(&json!({"query": "{ projection { logHead } }"}))
            .send()
            .await
            .expect("answered");
        if answer.status().as_u16() == 200 || started.elapsed() > Duration::from_secs(1) {
            break answer;
        }
    };
    let took = started.elapsed();
    assert_eq!(
        answer.status().as_u16(),
        200,
        "the pool was still busy after {took:?}"
    );
    let answer: Value = answer.json().await.expect("JSON");
    assert_eq!(answer["data"]["projection"]["logHead"], 200_000, "{answer}");
    println!("after 8 given-up documents of 4 series each, a pool read answered in {took:?}");
    server.stop().await;
}

async fn send_json(socket: &mut Socket, value: Value) {
    socket
        .send(Message::text(value.to_string()))
        .await
        .expect("sent");
}

#[tokio::test]
async fn websocket_connections_and_subscriptions_are_bounded_with_a_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = test_config(&dir);
    config.limits.max_ws_connections = 2;
    config.limits.max_subscriptions = 3;
    let server = TestServer::start(config).await;
    let (mut first, _) = open_socket(&server).await;
    let _second = open_socket(&server).await;
    let (mut third, _) = open_socket(&server).await;
    let (code, reason) = next_frame(&mut third).await.expect_err("refused");
    assert_eq!(code, 1013);
    assert!(reason.contains("limit 2"), "{reason}");

    send_json(&mut first, json!({"type": "connection_init"})).await;
    assert_eq!(
        next_frame(&mut first).await.expect("ack")["type"],
        "connection_ack"
    );
    for id in 1..=4 {
        let query = "subscription { eventAppended { position } }";
        send_json(
            &mut first,
            json!({"id": id.to_string(), "type": "subscribe", "payload": {"query": query}}),
        )
        .await;
    }
    // One of the four is refused (which one is up to the order they
    // start in), with the limit named.
    let refused = next_frame(&mut first).await.expect("a refusal");
    assert_eq!(refused["type"], "next", "{refused}");
    let error = &refused["payload"]["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
        "{refused}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("limit 3"),
        "{refused}"
    );
    let refused_id = refused["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        next_frame(&mut first).await.expect("complete")["type"],
        "complete"
    );
    let mut running: Vec<String> = (1..=4)
        .map(|n| n.to_string())
        .filter(|id| *id != refused_id)
        .collect();
    // Ending one frees its permit for the next.
    let ended = running.remove(0);
    send_json(&mut first, json!({"id": ended, "type": "complete"})).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let query = "subscription { eventAppended { position } }";
    send_json(
        &mut first,
        json!({"id": "5", "type": "subscribe", "payload": {"query": query}}),
    )
    .await;
    running.push("5".to_owned());
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(
        &server,
        "w1",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1"}),
    )
    .await;
    let mut ids = Vec::new();
    while ids.len() < 3 {
        let next = next_frame(&mut first).await.expect("an event");
        if next["type"] == "complete" && next["id"] == ended.as_str() {
            continue;
        }
        assert_eq!(next["type"], "next", "{next}");
        assert_eq!(
            next["payload"]["data"]["eventAppended"]["position"], 1,
            "{next}"
        );
        ids.push(next["id"].as_str().unwrap_or_default().to_owned());
    }
    ids.sort();
    running.sort();
    assert_eq!(ids, running);
    server.stop().await;
}
