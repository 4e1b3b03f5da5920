//! The projection read as a person or an internal dashboard reads it: the
//! `sqlite3` shell against the database file, no code of ours in between.

use serde_json::{Value, json};

use crate::support::*;

/// Runs `sql` with the `sqlite3` shell on the server's database; its rows
/// as JSON objects.
async fn sqlite3(server: &TestServer, sql: &str) -> Vec<Value> {
    let output = tokio::process::Command::new("sqlite3")
        .arg("-json")
        .arg(server.database_path())
        .arg(sql)
        .output()
        .await
        .expect("sqlite3 runs (scripts/test installs it)");
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    if text.trim().is_empty() {
        return Vec::new();
    }
    serde_json::from_str(&text).expect("sqlite3 -json prints an array")
}

#[tokio::test]
async fn the_current_producers_read_with_sqlite3_in_typed_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(sqlite_config(&dir)).await;
    let activated = "producersync.npn.activated";
    send(
        &server,
        "a1",
        activated,
        "2025-07-01T09:30:00Z",
        json!({"npn": "19283746"}),
    )
    .await;
    send(
        &server,
        "a2",
        activated,
        "2025-07-02T00:00:00Z",
        json!({"npn": "555"}),
    )
    .await;
    send(
        &server,
        "d2",
        "producersync.npn.deactivated",
        "2025-08-01T00:00:00Z",
        json!({"npn": "555"}),
    )
    .await;
    send(
        &server,
        "p1",
        "id.producer.updated",
        "2025-07-03T00:00:00Z",
        json!({"npn": "19283746", "firstName": "Ada"}),
    )
    .await;

    let query = "SELECT npn, status, last_activated_at, last_deactivated_at, event_count, deleted, \
                 json_extract(profile, '$.firstName') AS first_name \
                 FROM current_producers ORDER BY npn";
    let expected = json!([
        {"npn": "19283746", "status": "ACTIVE", "last_activated_at": "2025-07-01T09:30:00.000Z",
         "last_deactivated_at": null, "event_count": 2, "deleted": 0, "first_name": "Ada"},
        {"npn": "555", "status": "INACTIVE", "last_activated_at": "2025-07-02T00:00:00.000Z",
         "last_deactivated_at": "2025-08-01T00:00:00.000Z", "event_count": 2, "deleted": 0,
         "first_name": null},
    ]);
    assert_eq!(Value::from(sqlite3(&server, query).await), expected);
    let active = sqlite3(
        &server,
        "SELECT npn FROM current_producers WHERE status = 'ACTIVE' AND last_activated_at >= '2025-07-01'",
    )
    .await;
    assert_eq!(Value::from(active), json!([{"npn": "19283746"}]));

    // A rebuild writes the same rows into its generation, and the view
    // follows the swap.
    producer_projector::rebuild_offline(&event_store::StoreOptions::new(
        server.config.database_url.clone(),
    ))
    .await
    .expect("rebuild");
    assert_eq!(Value::from(sqlite3(&server, query).await), expected);
    let generations = sqlite3(&server, "SELECT DISTINCT generation FROM current_producers").await;
    assert_eq!(Value::from(generations), json!([{"generation": 2}]));
    server.stop().await;
}
