//! `copy`: a SQLite file's log copied into PostgreSQL answers every query
//! as the source did, and copying again appends nothing.

use serde_json::{Value, json};

use crate::support::*;

/// Queries over every part of the schema that reads the log or the
/// projection; the answers of source and copy are compared whole.
const QUERIES: &[&str] = &[
    "{ stats { eventsInLog activeCount inactiveCount unfoldedEvents testDeliveries lastRunDate eventsByType { type count } } }",
    "{ producers(first: 100) { totalCount nodes { npn status eventCount firstEventAt lastEventAt lastActivatedAt lastDeactivatedAt profile profileUpdatedAt deleted addresses { id } phones { id } } } }",
    "{ events(first: 100) { totalCount nodes { position webhookId eventId type npn occurredAt receivedAt source folded unfoldedReason payload } } }",
    r#"{ producer(npn: "3001") { status eventCount history(first: 50) { nodes { position type } } } }"#,
    r#"{ activeNpns(asOf: "2025-07-02T00:00:00Z") activity(bucket: DAY, from: "2025-06-30T00:00:00Z", to: "2025-07-05T00:00:00Z") { start activations deactivations profileChanges } }"#,
    "{ projection { appliedPosition logHead lag foldVersion } }",
];

async fn answers(server: &TestServer) -> Vec<Value> {
    let mut all = Vec::new();
    for query in QUERIES {
        all.push(server.graphql_as(query, json!({}), None).await);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_log_copied_into_postgres_answers_every_query_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let source = TestServer::start(sqlite_config(&dir)).await;
    let mut sent = 0;
    for (n, event_type) in agentsync_events::example_types().iter().enumerate() {
        for (day, npn) in [(3, "3001"), (1, "3002"), (2, "3001")] {
            let timestamp = format!("2025-07-0{day}T{:02}:00:00Z", n % 24);
            let id = format!("copy_{n}_{npn}_{day}");
            let body = agentsync_events::render_example(event_type, &id, &timestamp, Some(npn))
                .expect("an example");
            let answer = source
                .deliver("/webhooks/agentsync", &format!("msg_{id}"), &body)
                .await;
            assert_eq!(answer.status, 200, "{answer:?}");
            sent += 1;
        }
    }
    let expected = answers(&source).await;
    for answer in &expected {
        assert!(answer.get("errors").is_none(), "{answer}");
    }
    let from = event_store::StoreOptions::new(source.config.database_url.clone());
    source.stop().await;

    let destination = test_postgres::database();
    let to = event_store::StoreOptions::new(destination.clone());
    let copied = producer_projector::copy::copy_log(&from, &to)
        .await
        .expect("copies");
    assert_eq!(
        (copied.read, copied.appended, copied.duplicates),
        (sent, sent, 0)
    );
    assert_eq!(copied.destination_had, 0);

    let again = producer_projector::copy::copy_log(&from, &to)
        .await
        .expect("copies again");
    assert_eq!(
        (again.appended, again.duplicates),
        (0, sent),
        "nothing twice"
    );

    let copy = TestServer::start(config_for(destination)).await;
    assert_eq!(answers(&copy).await, expected);
    copy.stop().await;

    let same = producer_projector::copy::copy_log(&from, &from).await;
    assert!(matches!(
        same,
        Err(producer_projector::copy::CopyError::SameDatabase)
    ));
}
