//! The log writer needs a SQLite file: it writes on a connection of its own.

use std::sync::Arc;

use event_store::{LogWriter, NoHook, Store, StoreError, StoreOptions, WriterOptions};

#[tokio::test]
async fn an_in_memory_database_is_refused_with_a_clear_error() {
    let store = Store::open(&StoreOptions::new("sqlite::memory:"))
        .await
        .expect("an in-memory store opens");
    let refused = LogWriter::start(&store, Arc::new(NoHook), WriterOptions::default())
        .expect_err("no file to write to");
    assert!(matches!(refused, StoreError::NotAFile));
    assert!(refused.to_string().contains("sqlite://PATH"), "{refused}");
}

#[tokio::test]
async fn a_file_database_gets_a_writer_that_appends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("log.db").display());
    let store = Store::open(&StoreOptions::new(url)).await.expect("opens");
    let writer =
        LogWriter::start(&store, Arc::new(NoHook), WriterOptions::default()).expect("a writer");
    let entry = event_store::NewEntry::interpreted(
        "msg_1".to_owned(),
        1,
        "agentsync".to_owned(),
        br#"{"id":"e1","type":"producersync.npn.activated","timestamp":"2025-07-01T00:00:00Z","data":{"npn":"7"}}"#.to_vec(),
    );
    let first = writer.append(entry.clone()).await.expect("appended");
    let again = writer.append(entry).await.expect("answered");
    assert_eq!(first, event_store::AppendOutcome::Appended(1));
    assert_eq!(again, event_store::AppendOutcome::Duplicate(1));
    assert_eq!(store.log_head().await.expect("head"), 1);
}
