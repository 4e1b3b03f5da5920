//! Applying the fold to the database: live, inside each append transaction,
//! and at start when the stored projection is missing, behind or built by
//! another fold version.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use event_store::{
    AppendHook, Appended, DELETE_CHUNK, ProducerRow, ProducerUpserts, ProjectionMeta,
    ProjectionTxn, Store, StoreError,
};
use tokio::sync::Mutex;

use crate::event::FoldEvent;
use crate::feed::ChangeFeed;
use crate::fold::{FOLD_VERSION, fold_global, fold_owned};
use crate::rebuild::{EVENTS_PER_PASS, RaisedFlag, RebuildReport};
use crate::state::{GlobalState, ProducerState};
use crate::stored::{decode_state, encode_row};

/// Why the projection could not be read, applied or rebuilt.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rebuild is already running; only one runs at a time.
    #[error("a rebuild is already running")]
    RebuildRunning,
    /// Another rebuild swapped in a newer generation first; this one was
    /// abandoned and the projection is current anyway.
    #[error("a newer rebuild finished first; this one was abandoned")]
    Superseded,
    /// The rebuild's lease ran out (it could not renew it in time) and
    /// another process took it over; nothing was swapped in.
    #[error("the rebuild's lease ran out and another process took it over; nothing was swapped")]
    LeaseLost,
    /// A stored state document could not be read.
    #[error("a stored projection document is corrupt: {0}")]
    Corrupt(#[from] serde_json::Error),
    /// The rebuild's own thread or runtime could not be started, or it
    /// stopped (panicked) without an answer; nothing was swapped in.
    #[error("the rebuild's thread failed: {0}")]
    RebuildThread(String),
}

/// The [`AppendHook`] that folds each appended batch into the current
/// generation, in the append transaction: once a delivery is acknowledged,
/// every query reflects it. After the commit it wakes its [`ChangeFeed`]'s
/// follower, which reads the new entries from the log and publishes them.
#[derive(Debug, Default)]
pub struct LiveFold {
    feed: ChangeFeed,
}

impl LiveFold {
    /// A live fold that wakes `feed` after each commit.
    pub fn new(feed: ChangeFeed) -> Self {
        Self { feed }
    }
}

impl AppendHook for LiveFold {
    fn after_append(&self, txn: &ProjectionTxn, entries: &[Appended]) -> Result<(), StoreError> {
        apply_batch(txn, entries).map_err(|error| match error {
            ProjectorError::Store(store) => store,
            other => StoreError::Corrupt(other.to_string()),
        })
    }

    fn after_commit(&self, _entries: &[Appended]) {
        self.feed.wake();
    }
}

/// The most entries an append folds besides its own: those other
/// processes appended without folding them into the current generation
/// (a replica of an older release, which leaves a newer release's
/// generation alone). A longer gap is left to a rebuild, off the commit
/// path.
const MAX_FOLDED_FOR_OTHERS: i64 = 10_000;

/// Folds a batch into the current generation, with the entries before it
/// that are not folded there yet. A generation a newer release built (a
/// higher fold version) is left alone: during a rolling upgrade the
/// replicas of the newer release fold what this one appends, so no
/// generation that stays is folded by two fold versions. (A generation of
/// an older release is folded into while the new one is rebuilt, and
/// replaced by it.)
fn apply_batch(txn: &ProjectionTxn, entries: &[Appended]) -> Result<(), ProjectorError> {
    // Without a current generation there is nothing to keep up to date: the
    // next start rebuilds from the log.
    let Some(meta) = txn.current_meta()? else {
        return Ok(());
    };
    if meta.fold_version > FOLD_VERSION {
        return Ok(());
    }
    let Some(first) = entries.iter().map(|a| a.entry.position).min() else {
        return Ok(());
    };
    let missed = first - 1 - meta.applied_position;
    let mut events = Vec::new();
    if (1..=MAX_FOLDED_FOR_OTHERS).contains(&missed) {
        let others = txn.entries_after(meta.applied_position, missed.unsigned_abs())?;
        events.extend(others.iter().filter_map(FoldEvent::from_entry));
    }
    events.extend(entries.iter().filter_map(FoldEvent::from_appended));
    let head = entries
        .iter()
        .map(|a| a.entry.position)
        .max()
        .unwrap_or(meta.applied_position);
    fold_into_generation(txn, &meta, head, events)?;
    Ok(())
}

/// Folds events into a generation as stored: loads the
/// producers they name, folds, writes them back, folds the global facts,
/// and records `applied_position`. Returns the producers' new states and
/// the new global facts. The events are taken, so their profiles and
/// sub-record ids move into the states (this runs on the commit path).
pub(crate) fn fold_into_generation(
    txn: &ProjectionTxn,
    meta: &ProjectionMeta,
    applied_position: i64,
    events: Vec<FoldEvent>,
) -> Result<Folded, ProjectorError> {
    let npns: Vec<String> = events.iter().filter_map(|e| e.npn.clone()).collect();
    let rows = txn.load_producers(meta.generation, npns)?;
    let stored_status: HashMap<String, String> = rows
        .iter()
        .map(|row| (row.npn.clone(), row.status.clone()))
        .collect();
    let mut states = decode_rows(rows)?;
    let mut global: GlobalState = serde_json::from_str(&meta.global_state)?;
    for event in events {
        global = fold_global(global, &event);
        if let Some(npn) = &event.npn {
            let (state, last_position) = states.entry(npn.clone()).or_default();
            *last_position = (*last_position).max(event.position);
            *state = fold_owned(std::mem::take(state), event);
        }
    }
    txn.upsert_producers(ProducerUpserts::new(
        encode_rows(meta.generation, &states)?,
        &stored_status,
    )?)?;
    let global_state = serde_json::to_string(&global)?;
    txn.set_applied(meta.generation, applied_position, global_state.clone())?;
    Ok(Folded {
        states,
        global_state,
    })
}

/// What [`fold_into_generation`] changed.
pub(crate) struct Folded {
    /// The folded producers' new states.
    pub(crate) states: StatesByNpn,
    /// The generation's global facts after the fold, serialised.
    pub(crate) global_state: String,
}

/// States by NPN, each with the last log position folded into it.
pub(crate) type StatesByNpn = HashMap<String, (ProducerState, i64)>;

fn decode_rows(rows: Vec<ProducerRow>) -> Result<StatesByNpn, ProjectorError> {
    rows.into_iter()
        .map(|row| Ok((row.npn.clone(), (decode_state(&row)?, row.last_position))))
        .collect()
}

/// Serialises states into rows, by reference (no state is cloned).
pub(crate) fn encode_rows<'a>(
    generation: i64,
    states: impl IntoIterator<Item = (&'a String, &'a (ProducerState, i64))>,
) -> Result<Vec<ProducerRow>, ProjectorError> {
    states
        .into_iter()
        .map(|(npn, (state, last_position))| encode_row(generation, npn, state, *last_position))
        .collect()
}

/// The projection's controller: prepares it at start, rebuilds it on
/// demand, reports on it.
#[derive(Clone)]
pub struct Projector {
    pub(crate) store: Store,
    pub(crate) gate: Arc<Mutex<()>>,
    pub(crate) rebuilding: Arc<AtomicBool>,
    pub(crate) swapping: Arc<AtomicBool>,
    /// Held by the task deleting replaced generations, while it runs.
    pub(crate) retiring: Arc<Mutex<()>>,
    pub(crate) events_per_pass: u64,
    /// This process's name as a holder of the rebuild lease.
    pub(crate) holder: Arc<str>,
}

impl Projector {
    /// A projector over `store`; `gate` is the log writer's, so a rebuild's
    /// final catch-up and swap exclude appends.
    pub fn new(store: Store, gate: Arc<Mutex<()>>) -> Self {
        Self {
            store,
            gate,
            rebuilding: Arc::new(AtomicBool::new(false)),
            swapping: Arc::new(AtomicBool::new(false)),
            retiring: Arc::new(Mutex::new(())),
            events_per_pass: EVENTS_PER_PASS,
            holder: Arc::from(crate::lease::holder_name()),
        }
    }

    /// Bounds how many log entries a rebuild collects in memory at once
    /// (default [`EVENTS_PER_PASS`]); beyond it, the log is read once more
    /// for each further share of the NPNs.
    pub fn with_events_per_pass(mut self, events: u64) -> Self {
        self.events_per_pass = events.max(1);
        self
    }

    /// Makes the stored projection usable before anything is served from
    /// it: removes generations older than the current one, and rebuilds
    /// when there is no projection, when it was built by another fold
    /// version, or when it is behind the log. For commands that run once
    /// (`import`); the server uses [`Projector::prepare_to_serve`].
    pub async fn prepare(&self) -> Result<Option<RebuildReport>, ProjectorError> {
        match self.needed_at_start().await? {
            None => Ok(None),
            Some((reason, _)) => {
                tracing::info!(reason, "rebuilding the projection at start");
                self.rebuild().await.map(Some)
            }
        }
    }

    /// [`Projector::prepare`] for a server that must start serving at
    /// once. When only the fold version changed, the previous generation
    /// is complete: it keeps serving (and folding new deliveries) while
    /// the new one is built in the background and swapped in; a failure
    /// of that rebuild is logged, and `/readyz` then says so. Without a
    /// projection, or behind the log, there is nothing complete to serve,
    /// and the rebuild runs first.
    pub async fn prepare_to_serve(&self) -> Result<(), ProjectorError> {
        loop {
            match self.needed_at_start().await? {
                None => return Ok(()),
                Some((reason, Serving::Blocked)) => {
                    tracing::info!(reason, "rebuilding the projection before serving");
                    match self.rebuild().await {
                        Ok(_) => return Ok(()),
                        // Another process (a replica starting at the same
                        // time) builds it: wait for that one, then look
                        // again.
                        Err(ProjectorError::RebuildRunning | ProjectorError::Superseded) => {
                            tracing::info!("another process is rebuilding the projection; waiting");
                            tokio::time::sleep(crate::lease::WAIT_FOR_OTHER_REBUILD).await;
                        }
                        Err(error) => return Err(error),
                    }
                }
                Some((reason, Serving::FromPrevious)) => {
                    tracing::info!(
                        reason,
                        "serving from the previous generation while the projection is rebuilt"
                    );
                    let projector = self.clone();
                    // Raised before the task runs, so a readiness check right
                    // after start already sees the rebuild.
                    let running = RaisedFlag::raise_for_rebuild(&self.rebuilding)?;
                    tokio::spawn(async move {
                        match projector.rebuild_flagged(running).await {
                            Ok(_) => {}
                            Err(ProjectorError::RebuildRunning) => {
                                tracing::info!("another process rebuilds the projection");
                            }
                            Err(error) => tracing::error!(%error, "the rebuild at start failed"),
                        }
                    });
                    return Ok(());
                }
            }
        }
    }

    /// Why the projection needs a rebuild at start, if it does, and whether
    /// the previous generation can serve meanwhile. Deletes generations
    /// older than the current one first.
    async fn needed_at_start(&self) -> Result<Option<(&'static str, Serving)>, ProjectorError> {
        // The head first: each append folds in its own transaction, so the
        // meta row read after it has folded at least that far, whatever
        // other replicas append meanwhile.
        let head = self.store.log_head().await?;
        let meta = self.store.current_meta().await?;
        if let Some(meta) = &meta {
            self.store
                .delete_generations_before(meta.generation, DELETE_CHUNK)
                .await?;
        }
        Ok(match &meta {
            None => Some(("no projection yet", Serving::Blocked)),
            // A newer release built it (a rolling upgrade is under way):
            // serve it, and leave rebuilding and folding it to that
            // release.
            Some(meta) if meta.fold_version > FOLD_VERSION => {
                tracing::warn!(
                    generation_fold_version = meta.fold_version,
                    code_fold_version = FOLD_VERSION,
                    "a newer release built the projection; serving it without folding into it"
                );
                None
            }
            Some(meta) if meta.fold_version < FOLD_VERSION => {
                Some(("the fold version changed", Serving::FromPrevious))
            }
            Some(meta) if meta.applied_position < head => {
                Some(("the projection is behind the log", Serving::Blocked))
            }
            Some(_) => None,
        })
    }

    /// Whether a rebuild is running now in this process.
    pub fn is_rebuilding(&self) -> bool {
        self.rebuilding.load(Ordering::SeqCst)
    }

    /// Whether a rebuild is running now anywhere in the deployment: in
    /// this process, or in any other holding the rebuild lease.
    pub async fn is_rebuilding_anywhere(&self) -> Result<bool, ProjectorError> {
        if self.is_rebuilding() {
            return Ok(true);
        }
        let now = crate::lease::now_micros();
        Ok(self.store.rebuild_lease(now).await?.is_some())
    }

    /// Whether a rebuild is in its final catch-up and swap (appends paused).
    pub fn is_swapping(&self) -> bool {
        self.swapping.load(Ordering::SeqCst)
    }

    /// The current generation's meta row.
    pub async fn current_meta(&self) -> Result<Option<ProjectionMeta>, ProjectorError> {
        Ok(self.store.current_meta().await?)
    }

    /// The global facts of the current generation.
    pub async fn global_state(&self) -> Result<GlobalState, ProjectorError> {
        match self.current_meta().await? {
            Some(meta) => Ok(serde_json::from_str(&meta.global_state)?),
            None => Ok(GlobalState::default()),
        }
    }
}

/// Whether the service can serve while a rebuild at start runs.
enum Serving {
    /// From the previous generation, which is complete.
    FromPrevious,
    /// Not before the rebuild is done.
    Blocked,
}
