//! `import` beside a running server: whatever happens, the projection
//! equals a fresh rebuild of the log.

use std::path::Path;

use serde_json::json;

use crate::projection::{EVERYTHING, current_states};
use crate::support::*;

/// An NDJSON line for one event of NPN `npn`.
fn line(n: usize, npn: usize) -> String {
    let event_type = if n.is_multiple_of(3) {
        "producersync.npn.deactivated"
    } else {
        "producersync.npn.activated"
    };
    let time = format!("2025-07-{:02}T00:00:{:02}Z", 1 + n % 28, n % 60);
    let body = envelope(&format!("imp{n}"), event_type, &time, json!({"npn": npn}));
    let body = String::from_utf8(body).expect("utf-8");
    format!(
        "{}\n",
        json!({"webhook_id": format!("msg_imp{n}"), "timestamp": now_secs(), "body": body})
    )
}

fn write_file(dir: &Path, lines: &[String]) -> std::path::PathBuf {
    let file = dir.join("backfill.ndjson");
    std::fs::write(&file, lines.concat()).expect("ndjson");
    file
}

/// Asserts the live projection answers every query as a rebuild does, and
/// that the service says it is ready.
async fn assert_equal_to_a_rebuild(server: &TestServer) {
    let live = server.query(EVERYTHING, json!({})).await;
    let rows = current_states(server).await;
    let ready = server
        .client
        .get(server.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status().as_u16(), 200);
    let rebuilt = server
        .graphql_as(
            "mutation { rebuildProjection { eventsFolded } }",
            json!({}),
            Some(ADMIN_TOKEN),
        )
        .await;
    assert!(rebuilt.get("errors").is_none(), "{rebuilt}");
    assert_eq!(
        current_states(server).await,
        rows,
        "the live projection differs from a rebuild"
    );
    assert_eq!(server.query(EVERYTHING, json!({})).await, live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_during_live_ingest_leaves_the_projection_equal_to_a_rebuild() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = std::sync::Arc::new(TestServer::start(test_config(&dir)).await);
    // NPNs 1-60, shared by the backfill and the live deliveries.
    let lines: Vec<String> = (0..12_000).map(|n| line(n, 1 + n % 60)).collect();
    let file = write_file(dir.path(), &lines);
    let url = server.config.database_url.clone();
    let import = tokio::spawn(async move {
        producer_projector::import::import_file(&event_store::StoreOptions::new(url), &file).await
    });
    let mut live: usize = 0;
    while live < 30 || !import.is_finished() {
        send(
            &server,
            &format!("live{live}"),
            if live.is_multiple_of(4) {
                "producersync.npn.deactivated"
            } else {
                "producersync.npn.activated"
            },
            "2025-08-01T00:00:00Z",
            json!({"npn": 1 + live % 60}),
        )
        .await;
        live += 1;
    }
    let report = import.await.expect("import task").expect("import");
    assert_eq!(report.appended, 12_000);
    println!(
        "{live} live deliveries during an import of {} lines",
        report.lines
    );
    let stats = server
        .query("{ stats { eventsInLog } projection { lag } }", json!({}))
        .await;
    assert_eq!(stats["stats"]["eventsInLog"], 12_000 + live);
    assert_eq!(stats["projection"]["lag"], 0);
    assert_equal_to_a_rebuild(&server).await;
}

#[tokio::test]
async fn an_import_that_stops_on_a_malformed_line_leaves_what_it_appended_folded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    send(
        &server,
        "before",
        "producersync.npn.activated",
        "2025-06-01T00:00:00Z",
        json!({"npn": 7}),
    )
    .await;
    // One full batch (5,000 lines), then a malformed line, then more.
    let mut lines: Vec<String> = (0..6_000).map(|n| line(n, 1_000 + n)).collect();
    lines.insert(5_500, "{\"webhook_id\": \"broken\"\n".to_owned());
    let file = write_file(dir.path(), &lines);
    let error = producer_projector::import::import_file(
        &event_store::StoreOptions::new(server.config.database_url.clone()),
        &file,
    )
    .await
    .expect_err("the malformed line stops it");
    assert!(error.to_string().contains("line 5501"), "{error}");
    // The next delivery moves the projection's position past the log head
    // of the import; nothing the import appended may be missing from it.
    send(
        &server,
        "after",
        "producersync.npn.activated",
        "2025-06-02T00:00:00Z",
        json!({"npn": 8}),
    )
    .await;
    let data = server
        .query(
            r#"{ producer(npn: "1001") { status } stats { eventsInLog } }"#,
            json!({}),
        )
        .await;
    assert_eq!(data["producer"]["status"], "ACTIVE");
    assert_eq!(data["stats"]["eventsInLog"], 5_002);
    assert_equal_to_a_rebuild(&server).await;
    server.stop().await;
}
