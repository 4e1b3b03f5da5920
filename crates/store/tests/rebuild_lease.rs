//! The rebuild lease, on both backends: one holder at a time, each taking
//! a generation of its own, and a lease whose holder died runs out.

use event_store::{LeaseTaken, ProjectionMeta, Store, StoreOptions};

const TTL: i64 = 15_000_000;

fn shadow() -> ProjectionMeta {
    ProjectionMeta {
        generation: 0,
        is_current: false,
        fold_version: 1,
        applied_position: 0,
        global_state: "{}".to_owned(),
        started_at: 0,
        finished_at: None,
        events_folded: None,
        producers_written: None,
        duration_ms: None,
    }
}

async fn one_holder_at_a_time_and_a_dead_holders_lease_runs_out(url: String) {
    let store = Store::open(&StoreOptions::new(url)).await.expect("opens");
    let now = 1_000_000_000;
    let first = store.take_rebuild_lease("a", now, TTL, shadow()).await;
    assert_eq!(first.expect("taken"), LeaseTaken::Taken(1));
    let refused = store
        .take_rebuild_lease("b", now + 1, TTL, shadow())
        .await
        .expect("answered");
    let LeaseTaken::HeldBy(held) = refused else {
        panic!("b must not take a held lease: {refused:?}");
    };
    assert_eq!((held.holder.as_str(), held.generation), ("a", 1));
    let seen = store.rebuild_lease(now + 2).await.expect("read");
    assert_eq!(seen.map(|lease| lease.holder), Some("a".to_owned()));
    assert!(
        store
            .renew_rebuild_lease("a", now + 3, TTL)
            .await
            .expect("renewed")
    );

    // "a" dies: after its lease runs out, "b" takes it over, for a
    // generation of its own, and "a" cannot renew it any more.
    let later = now + 3 + TTL + 1;
    assert_eq!(store.rebuild_lease(later).await.expect("read"), None);
    let taken_over = store.take_rebuild_lease("b", later, TTL, shadow()).await;
    assert_eq!(taken_over.expect("taken"), LeaseTaken::Taken(2));
    assert!(
        !store
            .renew_rebuild_lease("a", later, TTL)
            .await
            .expect("answered")
    );

    store.release_rebuild_lease("a").await.expect("no-op");
    assert!(store.rebuild_lease(later).await.expect("read").is_some());
    store.release_rebuild_lease("b").await.expect("released");
    assert_eq!(store.rebuild_lease(later).await.expect("read"), None);
    assert_eq!(store.latest_generation().await.expect("read"), 2);
}

#[tokio::test]
async fn on_a_sqlite_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("log.db").display());
    one_holder_at_a_time_and_a_dead_holders_lease_runs_out(url).await;
}

#[tokio::test]
async fn on_postgres() {
    one_holder_at_a_time_and_a_dead_holders_lease_runs_out(test_postgres::database()).await;
}
