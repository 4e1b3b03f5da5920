//! Deleting replaced generations in chunks.

use event_store::{ProducerRow, ProjectionMeta, Store, StoreOptions};

fn meta(generation: i64) -> ProjectionMeta {
    ProjectionMeta {
        generation,
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

fn rows(generation: i64, count: usize) -> Vec<ProducerRow> {
    (0..count)
        .map(|n| ProducerRow {
            generation,
            npn: format!("{}", 100 + n),
            status: "ACTIVE".to_owned(),
            last_activated_at: Some(n as i64),
            last_deactivated_at: None,
            first_event_at: Some(n as i64),
            last_event_at: Some(n as i64),
            event_count: 1,
            deleted: false,
            profile: None,
            fold_state: "{}".to_owned(),
            last_position: n as i64,
        })
        .collect()
}

/// A migrated store on a SQLite file in a temporary folder.
async fn fresh_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("gen.db").display());
    let store = Store::open(&StoreOptions::new(url)).await.expect("opens");
    (dir, store)
}

fn npns(count: usize) -> Vec<String> {
    rows(0, count).into_iter().map(|row| row.npn).collect()
}

#[tokio::test]
async fn older_generations_go_chunk_by_chunk_and_newer_ones_stay() {
    let (_dir, store) = fresh_store().await;
    for (generation, count) in [(1, 7), (2, 3), (3, 4), (4, 5)] {
        store.insert_meta(meta(generation)).await.expect("meta");
        store
            .upsert_producers(rows(generation, count))
            .await
            .expect("rows");
    }

    // Chunks of two: 7 rows take four statements, 3 take two.
    let deleted = store
        .delete_generations_before(3, 2)
        .await
        .expect("deleted");

    assert_eq!(deleted, 10);
    for (generation, left) in [(1, 0), (2, 0), (3, 4), (4, 5)] {
        let found = store
            .load_producers(generation, npns(10))
            .await
            .expect("rows");
        assert_eq!(found.len(), left, "generation {generation}");
    }
    assert_eq!(store.latest_generation().await.expect("latest"), 4);
    let again = store
        .delete_generations_before(3, 2)
        .await
        .expect("deleted");
    assert_eq!(again, 0, "nothing older is left");
}

#[tokio::test]
async fn a_checkpoint_copies_every_frame_of_the_wal_into_the_database() {
    let (_dir, store) = fresh_store().await;
    store.insert_meta(meta(1)).await.expect("meta");
    store.upsert_producers(rows(1, 50)).await.expect("rows");

    let (frames, copied) = store.checkpoint().await.expect("checkpoint");

    assert!(frames > 0, "the writes are in the WAL");
    assert_eq!(copied, frames, "no reader holds frames back");
}
