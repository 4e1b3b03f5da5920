//! Rebuilding the projection from the log without downtime.
//!
//! 1. Create the next generation, not yet current.
//! 2. Fold the whole log as it is now into memory, re-reading raw bodies,
//!    and write the states into the shadow generation in small
//!    transactions; queries and ingest carry on against the current one.
//! 3. Take the writer's gate (appends pause), fold what was appended
//!    meanwhile, write it, and swap generations in one transaction.
//! 4. Release the gate, delete the old generation.

use std::sync::atomic::Ordering;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use event_store::projection_queries::{
    delete_stale_generations, insert_meta, latest_generation, set_applied, swap_generation,
    upsert_producers,
};
use event_store::{LogFilter, ProjectionMeta, RebuildFigures, immediate, list_entries_on};
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::event::FoldEvent;
use crate::fold::{FOLD_VERSION, Projection};
use crate::projector::{Projector, ProjectorError, StatesByNpn, encode_rows, sorted};

/// How many log entries are read at a time.
const READ_PAGE: u64 = 5_000;
/// How many producer rows one shadow-write transaction holds, so ingest
/// waits at most for one small transaction.
const WRITE_CHUNK: usize = 1_000;

/// What a rebuild did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RebuildReport {
    /// The generation now current.
    pub generation: i64,
    /// Log entries read and folded (including those this release cannot fold).
    pub events_folded: i64,
    /// Producer rows written.
    pub producers_written: i64,
    /// Wall time in milliseconds.
    pub duration_ms: i64,
    /// Events per second over the whole rebuild.
    pub events_per_second: f64,
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Resets the "rebuilding" flag however the rebuild ends.
struct RunningFlag<'a>(&'a std::sync::atomic::AtomicBool);

impl<'a> RunningFlag<'a> {
    fn raise(flag: &'a std::sync::atomic::AtomicBool) -> Self {
        flag.store(true, Ordering::SeqCst);
        Self(flag)
    }
}

impl Drop for RunningFlag<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The in-memory side of a rebuild: the projection and the last position
/// folded into each producer.
struct Shadow {
    projection: Projection,
    last_positions: std::collections::HashMap<String, i64>,
    read_up_to: i64,
    events_read: i64,
}

impl Shadow {
    /// Folds every entry after `read_up_to`; returns the NPNs touched.
    async fn fold_log<C: ConnectionTrait>(
        &mut self,
        db: &C,
    ) -> Result<Vec<String>, ProjectorError> {
        let mut touched = Vec::new();
        loop {
            let page =
                list_entries_on(db, &LogFilter::default(), self.read_up_to, READ_PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(touched);
            };
            self.read_up_to = last.position;
            self.events_read += page.len() as i64;
            for entry in &page {
                let Some(event) = FoldEvent::from_entry(entry) else {
                    continue;
                };
                if let Some(npn) = &event.npn {
                    self.last_positions.insert(npn.clone(), entry.position);
                    touched.push(npn.clone());
                }
                self.projection.apply(&event);
            }
        }
    }

    fn rows_for(&self, npns: impl IntoIterator<Item = String>) -> StatesByNpn {
        npns.into_iter()
            .filter_map(|npn| {
                let state = self.projection.producers.get(&npn)?.clone();
                let position = self.last_positions.get(&npn).copied().unwrap_or(0);
                Some((npn, (state, position)))
            })
            .collect()
    }
}

impl Projector {
    /// Replays the whole log through the current fold into a fresh shadow
    /// generation and swaps it in. Queries and ingest keep working; only
    /// the final catch-up and swap pause appends.
    pub async fn rebuild(&self) -> Result<RebuildReport, ProjectorError> {
        if self.rebuilding.swap(true, Ordering::SeqCst) {
            return Err(ProjectorError::RebuildRunning);
        }
        let _running = RunningFlag(&self.rebuilding);
        let started = Instant::now();
        let db = self.store.writer_connection();
        let generation = latest_generation(db).await? + 1;
        insert_meta(db, shadow_meta(generation)).await?;

        let mut shadow = Shadow {
            projection: Projection::default(),
            last_positions: Default::default(),
            read_up_to: 0,
            events_read: 0,
        };
        let all = shadow.fold_log(self.store.reader()).await?;
        let rows = encode_rows(sorted(shadow.rows_for(dedup(all))))?;
        for chunk in rows.chunks(WRITE_CHUNK) {
            upsert_producers(db, generation, chunk.to_vec()).await?;
        }

        // The catch-up reads inside the swap's immediate transaction: it holds
        // the database's write lock, so not even another process can append
        // between the last read and the swap.
        let gate = self.gate.lock().await;
        let _swapping = RunningFlag::raise(&self.swapping);
        let txn = db.begin_with_options(immediate()).await?;
        let late = shadow.fold_log(&txn).await?;
        let figures = RebuildFigures {
            events_folded: shadow.events_read,
            producers_written: shadow.projection.producers.len() as i64,
            duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
            finished_at: now_micros(),
        };
        upsert_producers(
            &txn,
            generation,
            encode_rows(sorted(shadow.rows_for(dedup(late))))?,
        )
        .await?;
        let global = serde_json::to_string(&shadow.projection.global)?;
        set_applied(&txn, generation, shadow.read_up_to, global).await?;
        swap_generation(&txn, generation, figures).await?;
        txn.commit().await?;
        drop(gate);

        drop(_swapping);
        delete_stale_generations(db).await?;
        let seconds = started.elapsed().as_secs_f64();
        metrics::gauge!("projector_rebuild_duration_seconds").set(seconds);
        let report = RebuildReport {
            generation,
            events_folded: figures.events_folded,
            producers_written: figures.producers_written,
            duration_ms: figures.duration_ms,
            events_per_second: if seconds > 0.0 {
                figures.events_folded as f64 / seconds
            } else {
                0.0
            },
        };
        metrics::gauge!("projector_rebuild_events_per_second").set(report.events_per_second);
        tracing::info!(
            generation,
            events_folded = report.events_folded,
            producers_written = report.producers_written,
            duration_ms = report.duration_ms,
            events_per_second = report.events_per_second as u64,
            "projection rebuilt and swapped in"
        );
        Ok(report)
    }
}

fn shadow_meta(generation: i64) -> ProjectionMeta {
    ProjectionMeta {
        generation,
        is_current: false,
        fold_version: FOLD_VERSION,
        applied_position: 0,
        global_state: "{}".to_owned(),
        started_at: now_micros(),
        finished_at: None,
        events_folded: None,
        producers_written: None,
        duration_ms: None,
    }
}

fn dedup(mut npns: Vec<String>) -> Vec<String> {
    npns.sort_unstable();
    npns.dedup();
    npns
}
