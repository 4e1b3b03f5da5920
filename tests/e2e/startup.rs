//! A start after a fold-version change: the service serves from the
//! previous generation at once, and swaps in the rebuilt one without
//! refusing a delivery.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

/// The log the service starts on: long enough that its rebuild takes a
/// while, so deliveries and queries land in the middle of it.
const PRODUCERS: usize = 40_000;
const EVENTS_PER_PRODUCER: usize = 10;

/// What the test compares between the previous generation and the
/// restarted service's answers while it rebuilds.
const BEFORE_AND_DURING: &str =
    r#"{ producer(npn: "1005") { status lastActivatedAt } stats { activeCount } }"#;

const PROJECTION: &str = "{ projection { rebuilding generation foldVersion codeFoldVersion } }";

/// Marks the current generation as built by an older fold version, the
/// way a release with a new fold finds a database of the one before.
async fn pretend_an_older_fold_built_it(server: &TestServer) {
    server
        .sql("UPDATE projection_meta SET fold_version = 0 WHERE is_current")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_fold_version_is_rebuilt_while_the_service_serves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(&dir);
    generate_log(&config.database_url, PRODUCERS, EVENTS_PER_PRODUCER).await;
    let server = TestServer::start(config.clone()).await;
    let before = server.query(BEFORE_AND_DURING, json!({})).await;
    pretend_an_older_fold_built_it(&server).await;
    server.stop().await;

    let restarted = Instant::now();
    let server = TestServer::start(config).await;
    let status = server.query(PROJECTION, json!({})).await;
    assert_eq!(status["projection"]["rebuilding"], true, "{status}");
    assert_eq!(status["projection"]["foldVersion"], 0, "{status}");
    let ready = reqwest::get(server.url("/readyz")).await.expect("readyz");
    assert_eq!(ready.status(), 200);
    let body = ready.text().await.expect("body");
    assert!(body.contains("rebuilding"), "{body}");
    // The previous generation answers meanwhile.
    let during = server.query(BEFORE_AND_DURING, json!({})).await;
    assert_eq!(during, before);

    // Deliveries go on through the rebuild and its swap, each one visible
    // as soon as it is acknowledged.
    let mut sent_while_rebuilding = 0;
    let mut sent = 0;
    loop {
        let npn = format!("{}", 900_000 + sent);
        let answer = server
            .deliver(
                "/webhooks/agentsync",
                &format!("msg_new_{sent}"),
                &activated(&format!("new_{sent}"), &npn),
            )
            .await;
        assert_eq!(answer.status, 200, "delivery {sent}: {answer:?}");
        sent += 1;
        let data = server
            .query(
                "query($npn: String!) { producer(npn: $npn) { status } projection { rebuilding } }",
                json!({"npn": npn}),
            )
            .await;
        assert_eq!(data["producer"]["status"], "ACTIVE", "{data}");
        if data["projection"]["rebuilding"] != true {
            break;
        }
        sent_while_rebuilding += 1;
        assert!(
            restarted.elapsed() < Duration::from_secs(120),
            "the rebuild never ended"
        );
    }
    println!(
        "rebuild at start over {} events: {sent_while_rebuilding} deliveries acknowledged during it, {:?} after the restart",
        PRODUCERS * EVENTS_PER_PRODUCER,
        restarted.elapsed()
    );
    assert!(
        sent_while_rebuilding > 0,
        "the rebuild ended before the first delivery"
    );

    let after: Value = server
        .query(
            "{ projection { generation foldVersion codeFoldVersion } stats { activeCount eventsInLog } }",
            json!({}),
        )
        .await;
    let projection = &after["projection"];
    assert_eq!(
        projection["foldVersion"], projection["codeFoldVersion"],
        "{after}"
    );
    assert_eq!(projection["generation"], 2, "{after}");
    assert_eq!(
        after["stats"]["activeCount"],
        before["stats"]["activeCount"].as_i64().expect("count") + sent,
        "every delivery, from before, during and after the swap, is in the new generation"
    );
    assert_eq!(
        after["stats"]["eventsInLog"],
        (PRODUCERS * EVENTS_PER_PRODUCER) as i64 + sent
    );
    let ready = reqwest::get(server.url("/readyz")).await.expect("readyz");
    assert_eq!(ready.text().await.expect("body"), "ready");
    server.stop().await;
}

/// Marks the current generation as built by a newer release's fold, as a
/// replica of that release finds it during a rolling upgrade.
async fn pretend_a_newer_release_built_it(server: &TestServer, by: i64) {
    server
        .sql(&format!(
            "UPDATE projection_meta SET fold_version = fold_version + ({by}) WHERE is_current"
        ))
        .await;
}

async fn producer_status(server: &TestServer, npn: &str) -> Value {
    server
        .query(
            "query($npn: String!) { producer(npn: $npn) { status } projection { appliedPosition generation rebuilding } }",
            json!({"npn": npn}),
        )
        .await
}

#[tokio::test]
async fn an_older_release_serves_a_newer_releases_projection_without_folding_into_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(&dir);
    let server = TestServer::start(config.clone()).await;
    let activated = "producersync.npn.activated";
    send(
        &server,
        "u1",
        activated,
        "2025-07-01T00:00:00Z",
        json!({"npn": "61"}),
    )
    .await;
    pretend_a_newer_release_built_it(&server, 1).await;

    // Its deliveries are still taken, and left for the newer release to
    // fold: the generation stays folded by one fold version.
    send(
        &server,
        "u2",
        activated,
        "2025-07-01T00:00:00Z",
        json!({"npn": "62"}),
    )
    .await;
    let seen = producer_status(&server, "62").await;
    assert_eq!(seen["producer"], Value::Null, "{seen}");
    assert_eq!(seen["projection"]["appliedPosition"], 1, "{seen}");
    let ready = reqwest::get(server.url("/readyz")).await.expect("readyz");
    assert_eq!(ready.status(), 200);
    assert!(ready.text().await.expect("body").contains("newer release"));

    // Restarted, it neither rebuilds nor blocks.
    server.stop().await;
    let server = TestServer::start(config).await;
    let seen = producer_status(&server, "61").await;
    assert_eq!(seen["producer"]["status"], "ACTIVE", "{seen}");
    assert_eq!(seen["projection"]["generation"], 1, "{seen}");
    assert_eq!(seen["projection"]["rebuilding"], false, "{seen}");

    // The newer release's next append folds what the older one left.
    pretend_a_newer_release_built_it(&server, -1).await;
    send(
        &server,
        "u3",
        activated,
        "2025-07-01T00:00:00Z",
        json!({"npn": "63"}),
    )
    .await;
    for npn in ["62", "63"] {
        let seen = producer_status(&server, npn).await;
        assert_eq!(seen["producer"]["status"], "ACTIVE", "{npn}: {seen}");
        assert_eq!(seen["projection"]["appliedPosition"], 3, "{seen}");
    }
    server.stop().await;
}
