//! The log on PostgreSQL shared by several stores, as by several replicas:
//! positions are gap-free and in commit order, and a delivery retried to
//! two replicas at once is logged once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use event_store::{
    AppendHook, AppendOutcome, Appended, LogFilter, LogWriter, NewEntry, NoHook, ProjectionTxn,
    Store, StoreError, StoreOptions, WriterOptions,
};

/// A store of its own (as a replica has) on the database at `url`.
async fn replica(url: &str) -> Store {
    Store::migrate(&StoreOptions::new(url))
        .await
        .expect("migrates");
    Store::open(&StoreOptions::new(url)).await.expect("opens")
}

fn delivery(webhook_id: &str, npn: u32) -> NewEntry {
    let body = format!(
        r#"{{"id":"evt_{webhook_id}","type":"producersync.npn.activated","timestamp":"2025-07-01T00:00:00Z","data":{{"npn":"{npn}"}}}}"#
    );
    NewEntry::interpreted(
        webhook_id.to_owned(),
        1_751_328_000_000_000,
        "agentsync".to_owned(),
        body.into_bytes(),
    )
}

fn position(outcome: &AppendOutcome) -> i64 {
    match outcome {
        AppendOutcome::Appended(position) | AppendOutcome::Duplicate(position) => *position,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_appending_the_same_deliveries_at_once_log_each_once_at_positions_one_to_n() {
    let url = test_postgres::database();
    let (a, b) = (replica(&url).await, replica(&url).await);
    let start = |store: &Store| {
        LogWriter::start(store, Arc::new(NoHook), WriterOptions::default()).expect("a writer")
    };
    let (writer_a, writer_b) = (Arc::new(start(&a)), Arc::new(start(&b)));
    let mut sends = Vec::new();
    for n in 0..300u32 {
        // Every third delivery goes to both replicas at the same moment.
        let id = format!("msg_{n}");
        let targets: &[&Arc<LogWriter>] = match n % 3 {
            0 => &[&writer_a, &writer_b],
            1 => &[&writer_a],
            _ => &[&writer_b],
        };
        for writer in targets {
            let (writer, entry) = (Arc::clone(writer), delivery(&id, 1000 + n));
            let id = id.clone();
            sends.push(tokio::spawn(async move {
                (id, writer.append(entry).await.expect("answered"))
            }));
        }
    }
    let mut positions: HashMap<String, Vec<i64>> = HashMap::new();
    let mut appended = 0;
    for send in sends {
        let (id, outcome) = send.await.expect("joined");
        appended += usize::from(matches!(outcome, AppendOutcome::Appended(_)));
        positions.entry(id).or_default().push(position(&outcome));
    }
    assert_eq!(appended, 300, "each delivery appended once");
    for (id, seen) in &positions {
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "{id}: {seen:?}");
    }
    let entries = b
        .list_entries(&LogFilter::default(), 0, 1_000)
        .await
        .expect("lists");
    let logged: Vec<i64> = entries.iter().map(|entry| entry.position).collect();
    assert_eq!(
        logged,
        (1..=300).collect::<Vec<_>>(),
        "gap-free, no repeats"
    );
    for entry in &entries {
        assert_eq!(positions[&entry.webhook_id][0], entry.position);
    }
    assert_eq!(a.log_head().await.expect("head"), 300);
}

/// Holds each batch's transaction open, after its positions are taken,
/// until the test lets it go.
struct HeldOpen {
    entered: tokio::sync::mpsc::UnboundedSender<Vec<i64>>,
    release: Mutex<std::sync::mpsc::Receiver<()>>,
}

impl AppendHook for HeldOpen {
    fn after_append(&self, _txn: &ProjectionTxn, entries: &[Appended]) -> Result<(), StoreError> {
        let positions = entries.iter().map(|e| e.entry.position).collect();
        let _ = self.entered.send(positions);
        let release = self.release.lock().unwrap_or_else(|p| p.into_inner());
        let _ = release.recv_timeout(Duration::from_secs(30));
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_later_append_on_another_replica_never_becomes_visible_before_an_open_earlier_one() {
    let url = test_postgres::database();
    let (a, b) = (replica(&url).await, replica(&url).await);
    let (entered, mut entered_rx) = tokio::sync::mpsc::unbounded_channel();
    let (release, release_rx) = std::sync::mpsc::channel();
    let hook = HeldOpen {
        entered,
        release: Mutex::new(release_rx),
    };
    let writer_a = LogWriter::start(&a, Arc::new(hook), WriterOptions::default()).expect("a");
    let writer_b = LogWriter::start(&b, Arc::new(NoHook), WriterOptions::default()).expect("b");

    let first = tokio::spawn(async move { writer_a.append(delivery("first", 1)).await });
    let taken = entered_rx
        .recv()
        .await
        .expect("the first batch took its positions");
    assert_eq!(taken, vec![1]);
    let second = tokio::spawn(async move { writer_b.append(delivery("second", 2)).await });

    // While the first transaction is open, the second append commits
    // nothing a reader on either replica could see.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!second.is_finished(), "the later append waits");
    for store in [&a, &b] {
        assert_eq!(store.log_head().await.expect("head"), 0);
    }

    release.send(()).expect("released");
    let first = first.await.expect("joined").expect("appended");
    let second = second.await.expect("joined").expect("appended");
    assert_eq!(first, AppendOutcome::Appended(1));
    assert_eq!(second, AppendOutcome::Appended(2));
    let logged: Vec<(i64, String)> = b
        .list_entries(&LogFilter::default(), 0, 10)
        .await
        .expect("lists")
        .into_iter()
        .map(|entry| (entry.position, entry.webhook_id))
        .collect();
    assert_eq!(logged, [(1, "first".into()), (2, "second".into())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_batch_that_rolls_back_leaves_no_hole_in_the_positions() {
    struct FailsOnce(Mutex<bool>);
    impl AppendHook for FailsOnce {
        fn after_append(&self, _: &ProjectionTxn, _: &[Appended]) -> Result<(), StoreError> {
            let mut failed = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if *failed {
                return Ok(());
            }
            *failed = true;
            Err(StoreError::UnsupportedUrl)
        }
    }
    let url = test_postgres::database();
    let store = replica(&url).await;
    let writer = LogWriter::start(
        &store,
        Arc::new(FailsOnce(Mutex::new(false))),
        WriterOptions::default(),
    )
    .expect("a writer");
    writer
        .append(delivery("rolled_back", 1))
        .await
        .expect_err("its transaction rolls back");
    let next = writer.append(delivery("next", 2)).await.expect("appended");
    assert_eq!(next, AppendOutcome::Appended(1), "position 1 is reused");
    assert_eq!(store.log_head().await.expect("head"), 1);
}

#[tokio::test]
async fn a_database_that_cannot_be_reached_is_an_error_that_never_shows_the_password() {
    let mut options = StoreOptions::new("postgres://app:hunter2secret@127.0.0.1:1/projector");
    options.connect_timeout = Duration::from_millis(500);
    let failed = Store::open(&options)
        .await
        .expect_err("nothing listens on port 1");
    let message = format!("{failed} {failed:?}");
    assert!(!message.contains("hunter2secret"), "{message}");
    assert_eq!(
        event_store::masked_url("postgres://app:hunter2secret@127.0.0.1:1/projector"),
        "postgres://app:***@127.0.0.1:1/projector"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_append_listener_wakes_for_other_replicas_appends_also_after_postgres_restarts() {
    // A cluster of its own: this test stops it.
    let cluster = test_postgres::Cluster::start();
    let url = cluster.create_database("listener");
    let (listening, appending) = (replica(&url).await, replica(&url).await);
    let wake = Arc::new(tokio::sync::Notify::new());
    let _watch = listening.watch_appends(Arc::clone(&wake)).expect("listens");
    let woken = |wake: Arc<tokio::sync::Notify>| async move {
        tokio::time::timeout(Duration::from_secs(10), wake.notified())
            .await
            .is_ok()
    };
    assert!(woken(wake.clone()).await, "woken once it listens");
    let writer =
        LogWriter::start(&appending, Arc::new(NoHook), WriterOptions::default()).expect("a writer");
    writer
        .append(delivery("before", 1))
        .await
        .expect("appended");
    assert!(woken(wake.clone()).await, "woken by the other's append");

    cluster.stop_immediately();
    cluster.start_server();
    // The listener connects again and wakes (what was sent meanwhile is
    // lost, so the woken reader looks at the log).
    assert!(woken(wake.clone()).await, "woken once it listens again");
    let mut appended = writer.append(delivery("after", 2)).await;
    for _ in 0..20 {
        // The writer's connection was cut: its first append after the
        // restart may fail, and the next opens a new connection.
        if appended.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        appended = writer.append(delivery("after", 2)).await;
    }
    assert_eq!(appended.expect("appended"), AppendOutcome::Appended(2));
    assert!(woken(wake).await, "woken by an append after the restart");
}
