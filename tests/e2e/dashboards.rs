//! Dashboards: subscriptions over a real WebSocket, time travel, activity,
//! metrics, readiness, logs, and the status page and GraphiQL in a browser.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn producer_changed_arrives_over_a_real_websocket_after_commit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let mut changes = subscribe(
        &server,
        r#"subscription { producerChanged(npn: "42") { npn status eventCount } }"#,
    )
    .await;
    let mut appended = subscribe(&server, r#"subscription { eventAppended(types: ["producersync.npn.activated"]) { position type npn } }"#).await;
    tokio::time::sleep(Duration::from_millis(100)).await;

    send(
        &server,
        "other",
        "producersync.npn.deactivated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "43"}),
    )
    .await;
    send(
        &server,
        "mine",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "42"}),
    )
    .await;

    let change = next_message(&mut changes).await;
    assert_eq!(change["type"], "next", "{change}");
    assert_eq!(
        change["payload"]["data"]["producerChanged"],
        json!({"npn": "42", "status": "ACTIVE", "eventCount": 1})
    );
    let entry = next_message(&mut appended).await;
    assert_eq!(
        entry["payload"]["data"]["eventAppended"],
        json!({"position": 2, "type": "producersync.npn.activated", "npn": "42"})
    );
    // What the subscriber saw is committed: another connection reads it.
    assert_eq!(server.log().await.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn time_travel_answers_as_of_a_moment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    send(
        &server,
        "t1",
        "producersync.npn.activated",
        "2025-07-10T12:00:00Z",
        json!({"npn": "7"}),
    )
    .await;
    send(
        &server,
        "t2",
        "producersync.npn.deactivated",
        "2025-07-20T12:00:00Z",
        json!({"npn": "7"}),
    )
    .await;
    send(
        &server,
        "t3",
        "producersync.npn.activated",
        "2025-07-15T00:00:00Z",
        json!({"npn": "8"}),
    )
    .await;
    let query = "query($at: DateTime!) { activeNpns(asOf: $at) producer(npn: \"7\", asOf: $at) { status eventCount } }";
    let before = server
        .query(query, json!({"at": "2025-07-01T00:00:00Z"}))
        .await;
    assert_eq!(before, json!({"activeNpns": [], "producer": null}));
    let between = server
        .query(query, json!({"at": "2025-07-16T00:00:00Z"}))
        .await;
    assert_eq!(
        between,
        json!({"activeNpns": ["7", "8"], "producer": {"status": "ACTIVE", "eventCount": 1}})
    );
    let after = server
        .query(query, json!({"at": "2025-07-21T00:00:00Z"}))
        .await;
    assert_eq!(
        after,
        json!({"activeNpns": ["8"], "producer": {"status": "INACTIVE", "eventCount": 2}})
    );

    let series = server.query(r#"{ activeCountSeries(from: "2025-07-09T00:00:00Z", to: "2025-07-22T00:00:00Z", bucket: DAY) { at activeCount } }"#, json!({})).await;
    let counts: Vec<i64> = series["activeCountSeries"]
        .as_array()
        .expect("points")
        .iter()
        .map(|p| p["activeCount"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(counts, [0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 1, 1]);
    assert_eq!(
        series["activeCountSeries"][0]["at"],
        "2025-07-10T00:00:00+00:00"
    );

    let activity = server
        .query(
            r#"{ activity(from: "2025-07-10T00:00:00Z", to: "2025-07-21T00:00:00Z", bucket: DAY) {
        start activations deactivations profileChanges } }"#,
            json!({}),
        )
        .await;
    let buckets = activity["activity"].as_array().expect("buckets");
    assert_eq!(buckets.len(), 11);
    assert_eq!(
        buckets[0],
        json!({"start": "2025-07-10T00:00:00+00:00", "activations": 1, "deactivations": 0, "profileChanges": 0})
    );
    assert_eq!(buckets[10]["deactivations"], 1);
    let total: i64 = buckets
        .iter()
        .map(|b| b["activations"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(total, 2);
    server.stop().await;
}

#[tokio::test]
async fn rejections_are_counted_by_reason_in_stats_and_activity() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let body = envelope(
        "x",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1"}),
    );
    let now = now_secs();
    server
        .deliver_signed("/webhooks/agentsync", "m1", now, &body, OTHER_SECRET)
        .await;
    server
        .deliver_signed("/webhooks/agentsync", "m2", now, &body, OTHER_SECRET)
        .await;
    server
        .deliver_signed("/webhooks/agentsync", "m3", now - 1000, &body, SECRET)
        .await;
    server
        .post_with_headers("/webhooks/agentsync", &[], body.clone())
        .await;
    let stats = wait_for_rejections(&server, 4).await;
    let by_reason: Vec<(String, i64)> = stats["rejectedDeliveries"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| {
            (
                r["reason"].as_str().unwrap_or_default().to_owned(),
                r["count"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        by_reason,
        [
            ("missing_header".to_owned(), 1),
            ("signature_mismatch".to_owned(), 2),
            ("stale_timestamp".to_owned(), 1)
        ]
    );
    let now_text = chrono::Utc::now().to_rfc3339();
    let from = (chrono::Utc::now() - chrono::Duration::hours(2)).to_rfc3339();
    let activity = server.query("query($f: DateTime!, $t: DateTime!) { activity(from: $f, to: $t, bucket: HOUR) { rejectedDeliveries } }",
        json!({"f": from, "t": now_text})).await;
    let rejected: i64 = activity["activity"]
        .as_array()
        .expect("buckets")
        .iter()
        .map(|b| b["rejectedDeliveries"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(rejected, 4);
    assert!(server.log().await.is_empty());
    server.stop().await;
}

/// Polls `stats` until `count` refusals are flushed to the store.
async fn wait_for_rejections(server: &TestServer, count: i64) -> Value {
    for _ in 0..50 {
        let stats = server.query("{ stats { rejectedDeliveries { reason count lastAt } recentRejections { reason count } } }", json!({})).await["stats"].clone();
        let total: i64 = stats["rejectedDeliveries"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| r["count"].as_i64().unwrap_or(0))
            .sum();
        if total >= count {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("rejections were not flushed");
}

/// Parses Prometheus text exposition: every line is a comment or
/// `name{labels} value`; returns the samples.
fn parse_prometheus(text: &str) -> Vec<(String, f64)> {
    text.lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("no value: {line}"));
            let name_end = series.find('{').unwrap_or(series.len());
            let name = &series[..name_end];
            assert!(
                !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "bad metric name in {line}"
            );
            if name_end < series.len() {
                assert!(series.ends_with('}'), "unclosed labels in {line}");
            }
            let value: f64 = value
                .parse()
                .unwrap_or_else(|_| panic!("bad value in {line}"));
            (series.to_owned(), value)
        })
        .collect()
}

async fn metrics(server: &TestServer) -> Vec<(String, f64)> {
    let response = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("metrics");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    parse_prometheus(&response.text().await.expect("text"))
}

fn sample(samples: &[(String, f64)], series: &str) -> f64 {
    samples
        .iter()
        .find(|(name, _)| name == series)
        .map_or(0.0, |(_, value)| *value)
}

#[tokio::test]
async fn metrics_parse_and_move_with_deliveries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let accepted = r#"projector_deliveries_total{outcome="accepted",reason="none"}"#;
    let forged = r#"projector_deliveries_total{outcome="rejected",reason="signature_mismatch"}"#;
    let before = metrics(&server).await;
    send(
        &server,
        "m1",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1"}),
    )
    .await;
    let body = envelope(
        "m2",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "2"}),
    );
    server
        .deliver_signed("/webhooks/agentsync", "m2", now_secs(), &body, OTHER_SECRET)
        .await;
    let after = metrics(&server).await;
    // Counters are process-wide and other tests run beside this one, so
    // they must have grown by at least this test's deliveries.
    assert!(sample(&after, accepted) >= sample(&before, accepted) + 1.0);
    assert!(sample(&after, forged) >= sample(&before, forged) + 1.0);
    assert!(
        after
            .iter()
            .any(|(name, _)| name.starts_with("projector_ingest_duration_seconds_bucket"))
    );
    assert!(
        after
            .iter()
            .any(|(name, _)| name.starts_with("projector_commit_batch_size_bucket"))
    );
    assert!(after.iter().any(|(name, _)| name == "projector_log_head"));
    assert!(
        after
            .iter()
            .any(|(name, _)| name == "projector_projection_lag")
    );
    server
        .query("query Dashboard { stats { activeCount } }", json!({}))
        .await;
    let graphql = metrics(&server).await;
    let dashboard = r#"projector_graphql_requests_total{operation="Dashboard",outcome="ok"}"#;
    assert!(
        sample(&graphql, dashboard) >= 1.0,
        "{:?}",
        graphql
            .iter()
            .filter(|(n, _)| n.contains("graphql"))
            .collect::<Vec<_>>()
    );
    server.stop().await;
}

#[tokio::test]
async fn readyz_reports_a_ready_service() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    send(
        &server,
        "r1",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1"}),
    )
    .await;
    let response = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.text().await.expect("text"), "ready");
    let id = server
        .client
        .get(server.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert!(
        id.headers().get("x-request-id").is_some(),
        "responses carry a request id"
    );
    server.stop().await;
}

#[tokio::test]
async fn no_secret_or_masked_field_reaches_a_log_line() {
    let logs = capture_logs();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let sensitive = ["123-45-6789", "1975-03-04", "000987654321", "021000021"];
    send(
        &server,
        "l1",
        "id.producer.updated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "31", "ssn": sensitive[0], "dateOfBirth": sensitive[1]}),
    )
    .await;
    send(&server, "l2", "id.producer.bank_account.updated", "2025-07-01T00:00:00Z",
        json!({"npn": "31", "id": "b", "accountNumber": sensitive[2], "routingNumber": sensitive[3]})).await;
    let forged = envelope(
        "l3",
        "id.producer.updated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "31", "ssn": sensitive[0]}),
    );
    server
        .deliver_signed(
            "/webhooks/agentsync",
            "l3",
            now_secs(),
            &forged,
            OTHER_SECRET,
        )
        .await;
    server
        .graphql_as(
            "mutation { rebuildProjection { generation } }",
            json!({}),
            Some(ADMIN_TOKEN),
        )
        .await;
    server
        .graphql_as(
            "mutation { rebuildProjection { generation } }",
            json!({}),
            Some("wrong-token"),
        )
        .await;
    server
        .query(
            r#"{ producer(npn: "31") { profile bankAccounts { fields } } }"#,
            json!({}),
        )
        .await;
    server.stop().await;

    let text = logs.text();
    assert!(
        text.contains("request finished"),
        "the capture saw no request lines: {text}"
    );
    assert!(
        text.contains("status=200"),
        "request lines carry the status"
    );
    let secret_material = [
        SECRET,
        SECRET.trim_start_matches("whsec_"),
        OTHER_SECRET.trim_start_matches("whsec_"),
        ADMIN_TOKEN,
        "wrong-token",
    ];
    for needle in sensitive.iter().chain(secret_material.iter()) {
        assert!(!text.contains(needle), "{needle} reached the logs");
    }
}

#[tokio::test]
async fn status_page_and_graphiql_in_a_real_browser() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    send(
        &server,
        "b1",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1001"}),
    )
    .await;
    send(
        &server,
        "b2",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1002"}),
    )
    .await;
    send(
        &server,
        "b3",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1003"}),
    )
    .await;
    send(
        &server,
        "b4",
        "producersync.npn.deactivated",
        "2025-07-02T00:00:00Z",
        json!({"npn": "1003"}),
    )
    .await;
    send(
        &server,
        "b5",
        "producersync.updates_available",
        "2025-07-03T00:00:00Z",
        json!({"runDate": "2025-07-03"}),
    )
    .await;
    let body = envelope(
        "b6",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "1"}),
    );
    server
        .deliver_signed("/webhooks/agentsync", "b6", now_secs(), &body, OTHER_SECRET)
        .await;
    wait_for_rejections(&server, 1).await;

    let browser_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists(),
        "run scripts/test (the README's test command), which installs playwright-core with `npm ci --prefix tests/browser`"
    );
    let artifacts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts/browser");
    let expected = json!({"active": "2", "inactive": "1", "activeNpns": ["1001", "1002"],
        "rejection": "signature_mismatch", "runDate": "2025-07-03"});
    let output = tokio::process::Command::new("node")
        .arg("check.mjs")
        .arg(server.url(""))
        .arg(&artifacts)
        .arg(expected.to_string())
        .current_dir(&browser_dir)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "browser check failed:\n{stdout}\n{stderr}"
    );
    for shot in ["status-page.png", "graphiql.png"] {
        let size = std::fs::metadata(artifacts.join(shot))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(size > 10_000, "{shot} is missing or empty");
    }
    server.stop().await;
}
