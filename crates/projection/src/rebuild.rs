//! Rebuilding the projection from the log without downtime.
//!
//! 1. Create the next generation, not yet current, and note the log head.
//! 2. Read the log up to that head producer by producer (ordered by NPN,
//!    then position), re-reading raw bodies; fold each producer's events and
//!    write its state into the shadow generation in small transactions.
//!    Only one producer's state is in memory at a time. Queries and ingest
//!    carry on against the current generation meanwhile.
//! 3. Take the writer's gate (appends pause) and, inside one immediate
//!    transaction, fold what was appended since the head into the shadow
//!    rows and swap generations.
//! 4. Release the gate, delete the old generation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use event_store::projection_queries::{
    delete_generations_before, insert_meta, latest_generation, upsert_producers,
};
use event_store::writer_queries::{current_meta_in, entries_after_in, swap_generation_in};
use event_store::{
    BodyRow, DirectTxn, ProducerRow, ProjectionMeta, RebuildFigures, StoreError,
    entries_without_producer,
};
use sea_orm::DatabaseConnection;
use tokio::task::JoinHandle;

use crate::event::FoldEvent;
use crate::fold::{FOLD_VERSION, fold, fold_global};
use crate::projector::{Projector, ProjectorError, encode_row, fold_into_generation};
use crate::state::{GlobalState, ProducerState};

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

/// Raises a flag for as long as it lives.
struct RaisedFlag<'a>(&'a AtomicBool);

impl<'a> RaisedFlag<'a> {
    fn raise(flag: &'a AtomicBool) -> Self {
        flag.store(true, Ordering::SeqCst);
        Self(flag)
    }
}

impl Drop for RaisedFlag<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// The producer being folded and the rows waiting to be written.
struct ShadowWriter<'a> {
    db: &'a DatabaseConnection,
    generation: i64,
    current: Option<(String, ProducerState, i64)>,
    pending: Vec<ProducerRow>,
    written: i64,
    global: GlobalState,
}

impl ShadowWriter<'_> {
    /// Folds one entry of the producer `npn` (entries arrive grouped by NPN).
    async fn fold_entry(&mut self, npn: &str, entry: &BodyRow) -> Result<(), ProjectorError> {
        if self
            .current
            .as_ref()
            .is_some_and(|(current, _, _)| current != npn)
        {
            self.finish_producer().await?;
        }
        let (_, state, last_position) = self
            .current
            .get_or_insert_with(|| (npn.to_owned(), ProducerState::default(), 0));
        *last_position = entry.position;
        if let Some(event) = FoldEvent::from_body(&entry.body, entry.received_at) {
            *state = fold(std::mem::take(state), &event);
            self.global = fold_global(std::mem::take(&mut self.global), &event);
        }
        Ok(())
    }

    async fn finish_producer(&mut self) -> Result<(), ProjectorError> {
        if let Some((npn, state, last_position)) = self.current.take() {
            // A producer whose entries this release cannot fold has no state.
            if state.event_count > 0 {
                self.pending.push(encode_row(&npn, &state, last_position)?);
            }
        }
        if self.pending.len() >= WRITE_CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), ProjectorError> {
        let rows = std::mem::take(&mut self.pending);
        self.written += rows.len() as i64;
        upsert_producers(self.db, self.generation, rows).await?;
        Ok(())
    }
}

/// What a rebuild's final step needs: it runs in one immediate
/// transaction on a blocking thread.
struct CatchUp {
    generation: i64,
    /// The log head the shadow generation was built up to.
    head: i64,
    /// The shadow generation's global facts, serialised.
    global_state: String,
    events_read: i64,
    producers_written: i64,
    started: Instant,
}

/// How a rebuild's final step ended.
enum Swapped {
    /// The shadow generation is current now.
    Done(RebuildFigures),
    /// A newer generation (a later rebuild) is current; nothing was swapped.
    Superseded(i64),
}

impl CatchUp {
    /// Folds what was appended since the head into the shadow rows and
    /// swaps generations, unless a later rebuild has swapped in a newer
    /// generation already (a rebuild never goes back).
    fn fold_and_swap(self, txn: &DirectTxn) -> Result<Swapped, ProjectorError> {
        if let Some(newer) = current_meta_in(txn)?.filter(|c| c.generation > self.generation) {
            return Ok(Swapped::Superseded(newer.generation));
        }
        let late = entries_after_in(txn, self.head)?;
        let late_head = late.last().map_or(self.head, |entry| entry.position);
        let late_events: Vec<(i64, FoldEvent)> = late
            .iter()
            .filter_map(|entry| Some((entry.position, FoldEvent::from_entry(entry)?)))
            .collect();
        let mut meta = shadow_meta(self.generation);
        meta.global_state = self.global_state;
        let caught_up = fold_into_generation(txn, &meta, late_head, &late_events)?;
        let figures = RebuildFigures {
            events_folded: self.events_read + late.len() as i64,
            producers_written: self.producers_written + caught_up.len() as i64,
            duration_ms: i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX),
            finished_at: now_micros(),
        };
        swap_generation_in(txn, self.generation, figures)?;
        Ok(Swapped::Done(figures))
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
        let _running = RaisedFlag(&self.rebuilding);
        let started = Instant::now();
        let db = self.store.writer_connection();
        let generation = latest_generation(db).await? + 1;
        insert_meta(db, shadow_meta(generation)).await?;
        let head = self.store.log_head().await?;

        let (global, global_read) = self.fold_global_facts(head).await?;
        let mut writer = ShadowWriter {
            db,
            generation,
            current: None,
            pending: Vec::new(),
            written: 0,
            global,
        };
        let mut events_read = global_read;
        // The next page is read (on another thread) while this one folds.
        let mut next_page = self.read_page_ahead(head, None);
        loop {
            let page = next_page.await.map_err(|_| StoreError::Interrupted)??;
            let Some(last) = page.last() else { break };
            next_page =
                self.read_page_ahead(head, last.npn.clone().map(|npn| (npn, last.position)));
            events_read += page.len() as i64;
            for entry in &page {
                let npn = entry.npn.as_deref().unwrap_or_default();
                writer.fold_entry(npn, entry).await?;
            }
        }
        writer.finish_producer().await?;
        writer.flush().await?;

        // The catch-up reads inside the swap's immediate transaction: it
        // holds the database's write lock, so not even another process can
        // append between the last read and the swap.
        let gate = self.gate.lock().await;
        let swapping = RaisedFlag::raise(&self.swapping);
        let catch_up = CatchUp {
            generation,
            head,
            global_state: serde_json::to_string(&writer.global)?,
            events_read,
            producers_written: writer.written,
            started,
        };
        let swapped = self
            .store
            .write_direct(move |txn| catch_up.fold_and_swap(txn))
            .await;
        drop(gate);
        drop(swapping);
        match swapped? {
            Swapped::Done(figures) => {
                delete_generations_before(db, generation).await?;
                Ok(report(generation, figures, started))
            }
            Swapped::Superseded(newer) => {
                delete_generations_before(db, newer).await?;
                Err(ProjectorError::Superseded)
            }
        }
    }

    /// Starts reading the page of entries after `after`, up to `head`.
    fn read_page_ahead(
        &self,
        head: i64,
        after: Option<(String, i64)>,
    ) -> JoinHandle<Result<Vec<BodyRow>, StoreError>> {
        let store = self.store.clone();
        tokio::spawn(async move { store.entries_by_producer(head, after, READ_PAGE).await })
    }

    /// Folds the entries that name no producer (the global facts).
    async fn fold_global_facts(&self, head: i64) -> Result<(GlobalState, i64), ProjectorError> {
        let (mut global, mut read, mut after) = (GlobalState::default(), 0i64, 0i64);
        loop {
            let page =
                entries_without_producer(self.store.reader(), after, head, READ_PAGE).await?;
            let Some(last) = page.last() else {
                return Ok((global, read));
            };
            after = last.position;
            read += page.len() as i64;
            for event in page.iter().filter_map(FoldEvent::from_entry) {
                global = fold_global(global, &event);
            }
        }
    }
}

fn report(generation: i64, figures: RebuildFigures, started: Instant) -> RebuildReport {
    let seconds = started.elapsed().as_secs_f64();
    let report = RebuildReport {
        generation,
        events_folded: figures.events_folded,
        producers_written: figures.producers_written,
        duration_ms: figures.duration_ms,
        events_per_second: figures.events_folded as f64 / seconds.max(1e-9),
    };
    metrics::gauge!("projector_rebuild_duration_seconds").set(seconds);
    metrics::gauge!("projector_rebuild_events_per_second").set(report.events_per_second);
    tracing::info!(
        generation,
        events_folded = report.events_folded,
        producers_written = report.producers_written,
        duration_ms = report.duration_ms,
        events_per_second = report.events_per_second as u64,
        "projection rebuilt and swapped in"
    );
    report
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
