//! Several replicas of the service on one database, as behind a load
//! balancer: each answers as the deployment, whichever replica a delivery
//! reached. (On the SQLite run the replicas share one file in one process,
//! and a replica learns of another's appends by reading the log each
//! second; on PostgreSQL, at once by `LISTEN`/`NOTIFY`.)

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::*;

/// Two replicas of the service on the database of `dir`.
async fn two_replicas(dir: &tempfile::TempDir) -> (TestServer, TestServer) {
    let config = test_config(dir);
    let (a, b) = tokio::join!(TestServer::start(config.clone()), TestServer::start(config));
    (a, b)
}

/// The `next` payloads of a subscription until `count` have come.
async fn payloads(socket: &mut Socket, field: &str, count: usize) -> Vec<Value> {
    let mut seen = Vec::new();
    while seen.len() < count {
        let message = next_message(socket).await;
        assert_eq!(message["type"], "next", "{message}");
        seen.push(message["payload"]["data"][field].clone());
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn subscribers_on_each_replica_see_every_append_of_any_replica_once_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = two_replicas(&dir).await;
    let mut entries_on_a = subscribe(&a, "subscription { eventAppended { position npn } }").await;
    let mut changes_on_b = subscribe(&b, "subscription { producerChanged { npn status } }").await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    for n in 0..20 {
        let replica = if n % 2 == 0 { &a } else { &b };
        let npn = format!("{}", 500 + n);
        send(
            replica,
            &format!("r{n}"),
            "producersync.npn.activated",
            "2025-07-01T00:00:00Z",
            json!({"npn": npn}),
        )
        .await;
    }

    let entries = payloads(&mut entries_on_a, "eventAppended", 20).await;
    let positions: Vec<i64> = entries
        .iter()
        .map(|entry| entry["position"].as_i64().expect("a position"))
        .collect();
    assert_eq!(positions, (1..=20).collect::<Vec<_>>());
    let changes = payloads(&mut changes_on_b, "producerChanged", 20).await;
    let npns: Vec<String> = changes
        .iter()
        .map(|change| change["npn"].as_str().expect("an NPN").to_owned())
        .collect();
    let expected: Vec<String> = (0..20).map(|n| format!("{}", 500 + n)).collect();
    assert_eq!(npns, expected, "one change per producer, in position order");
    assert!(changes.iter().all(|change| change["status"] == "ACTIVE"));
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_delivery_sent_to_two_replicas_at_once_is_logged_once_and_read_on_both() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = two_replicas(&dir).await;
    for n in 0..30 {
        let id = format!("msg_both_{n}");
        let body = activated(&format!("both_{n}"), &format!("{}", 700 + n));
        let (on_a, on_b) = tokio::join!(
            a.deliver("/webhooks/agentsync", &id, &body),
            b.deliver("/webhooks/agentsync", &id, &body)
        );
        assert_eq!((on_a.status, on_b.status), (200, 200), "{on_a:?} {on_b:?}");
        assert_eq!(on_a.json["position"], on_b.json["position"], "{id}");
        let statuses: BTreeSet<&str> = [&on_a, &on_b]
            .iter()
            .map(|answer| answer.json["status"].as_str().expect("a status"))
            .collect();
        assert_eq!(statuses, BTreeSet::from(["accepted", "duplicate"]), "{id}");
        // Read after the acknowledgement, on both replicas.
        for replica in [&a, &b] {
            let found = replica
                .query(
                    "query($npn: String!) { producer(npn: $npn) { status } }",
                    json!({"npn": format!("{}", 700 + n)}),
                )
                .await;
            assert_eq!(found["producer"]["status"], "ACTIVE", "{id}");
        }
    }
    let positions: Vec<i64> = a.log().await.iter().map(|entry| entry.position).collect();
    assert_eq!(positions, (1..=30).collect::<Vec<_>>());
    let stats = b
        .query("{ stats { eventsInLog activeCount } }", json!({}))
        .await;
    assert_eq!(
        stats["stats"],
        json!({"eventsInLog": 30, "activeCount": 30})
    );
    a.stop().await;
    b.stop().await;
}

/// Activates NPN `900 + n` for each `n` of `numbers`, one delivery each.
async fn activate_in_turn(server: &TestServer, numbers: std::ops::Range<u32>) {
    for n in numbers {
        let npn = format!("{}", 900 + n);
        send(
            server,
            &format!("p{n}"),
            "producersync.npn.activated",
            "2025-07-01T00:00:00Z",
            json!({"npn": npn}),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_appended_after_a_position_resumes_without_a_gap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = two_replicas(&dir).await;
    activate_in_turn(&a, 0..5).await;
    // A client that saw position 2 before its connection dropped resumes
    // on the other replica.
    let mut resumed = subscribe(
        &b,
        "subscription { eventAppended(afterPosition: 2) { position } }",
    )
    .await;
    let backlog = payloads(&mut resumed, "eventAppended", 3).await;
    assert_eq!(
        backlog,
        [
            json!({"position": 3}),
            json!({"position": 4}),
            json!({"position": 5})
        ]
    );
    activate_in_turn(&a, 5..7).await;
    let live = payloads(&mut resumed, "eventAppended", 2).await;
    assert_eq!(live, [json!({"position": 6}), json!({"position": 7})]);

    let refused = b
        .graphql_as(
            "subscription { eventAppended(afterPosition: -1) { position } }",
            json!({}),
            None,
        )
        .await;
    assert!(refused["errors"].is_array(), "{refused}");
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rebuild_running_anywhere_shows_on_every_replica_and_a_second_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = two_replicas(&dir).await;
    activate_in_turn(&a, 0..3).await;
    // Another process (a replica, or a `rebuild` command) holds the lease.
    let store = a.store().await;
    let now = chrono::Utc::now().timestamp_micros();
    let shadow = event_store::ProjectionMeta {
        generation: 0,
        is_current: false,
        fold_version: 1,
        applied_position: 0,
        global_state: "{}".to_owned(),
        started_at: now,
        finished_at: None,
        events_folded: None,
        producers_written: None,
        duration_ms: None,
    };
    let taken = store
        .take_rebuild_lease("elsewhere", now, 60_000_000, shadow)
        .await
        .expect("taken");
    assert!(
        matches!(taken, event_store::LeaseTaken::Taken(_)),
        "{taken:?}"
    );

    for replica in [&a, &b] {
        let status = replica
            .query("{ projection { rebuilding } }", json!({}))
            .await;
        assert_eq!(status["projection"]["rebuilding"], true, "{status}");
    }
    let refused = b
        .graphql_as(
            "mutation { rebuildProjection { generation } }",
            json!({}),
            Some(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "REBUILD_RUNNING",
        "{refused}"
    );

    // Once it is given up, either replica rebuilds, and both serve the
    // new generation.
    store
        .release_rebuild_lease("elsewhere")
        .await
        .expect("released");
    let rebuilt = a
        .graphql_as(
            "mutation { rebuildProjection { generation } }",
            json!({}),
            Some(ADMIN_TOKEN),
        )
        .await;
    let generation = rebuilt["data"]["rebuildProjection"]["generation"].clone();
    assert!(generation.is_i64(), "{rebuilt}");
    for replica in [&a, &b] {
        let status = replica
            .query(
                "{ projection { rebuilding generation } stats { activeCount } }",
                json!({}),
            )
            .await;
        assert_eq!(status["projection"]["rebuilding"], false, "{status}");
        assert_eq!(status["projection"]["generation"], generation, "{status}");
        assert_eq!(status["stats"]["activeCount"], 3, "{status}");
    }
    a.stop().await;
    b.stop().await;
}
