//! The store needs a SQLite file or a PostgreSQL database: the log writer,
//! among others, writes on a connection of its own to it.

use std::sync::Arc;

use event_store::{LogWriter, NoHook, Store, StoreError, StoreOptions, WriterOptions};

#[tokio::test]
async fn databases_other_than_a_sqlite_file_or_postgres_are_refused_with_a_clear_error() {
    for url in [
        "sqlite::memory:",
        "sqlite:file:p.db?mode=memory",
        "mysql://user:secret@localhost/p",
    ] {
        let refused = Store::open(&StoreOptions::new(url))
            .await
            .expect_err("not a file");
        assert!(matches!(refused, StoreError::UnsupportedUrl), "{url}");
        let message = refused.to_string();
        assert!(message.contains("sqlite://PATH"), "{message}");
        assert!(
            !message.contains("secret"),
            "the URL is not echoed: {message}"
        );
    }
}

#[tokio::test]
async fn a_file_database_in_a_missing_folder_is_created_and_gets_a_writer_that_appends() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Its folder does not exist yet: the store creates it, as the default
    // URL needs on a fresh checkout.
    let path = dir.path().join("data").join("log.db");
    let url = format!("sqlite://{}", path.display());
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
    assert!(path.is_file());
}
