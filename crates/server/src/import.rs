//! `import`: append NDJSON lines of `{webhook_id, timestamp, body}` to the
//! log as if they had been delivered (a backfill from an export, or a
//! benchmark's log).
//!
//! Lines are trusted: they are not signature-checked (the operator vouches
//! for them), but they go through the same interpretation and duplicate
//! rules as deliveries, so importing the same file twice appends nothing.
//!
//! Each batch is folded into the projection in the transaction that
//! appends it, as the server folds deliveries. So the projection equals a
//! rebuild of the log after every batch: an import beside a running
//! server, or one that stops half way (a malformed line), leaves nothing
//! appended and unfolded. A database without a projection yet gets one
//! first (a rebuild of what is already logged).

use std::io::BufRead;
use std::path::Path;
use std::time::Instant;

use std::sync::Arc;

use event_store::{AppendHook, AppendOutcome, NewEntry, Store, StoreOptions};
use projection::{ChangeFeed, LiveFold, Projector, RebuildReport};
use serde::Deserialize;

use crate::serve::ServeError;

/// Lines appended per transaction.
const IMPORT_BATCH: usize = 5_000;

/// One NDJSON line.
#[derive(Debug, Deserialize)]
struct ImportLine {
    webhook_id: String,
    /// The delivery's `webhook-timestamp`, seconds since the epoch; used as
    /// its reception time.
    timestamp: i64,
    /// The raw body, as text.
    body: String,
}

/// Why an import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// A line is not `{webhook_id, timestamp, body}`.
    #[error("line {line} is not a {{webhook_id, timestamp, body}} object: {source}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The store or the rebuild failed.
    #[error(transparent)]
    Service(#[from] ServeError),
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// Lines read.
    pub lines: u64,
    /// Entries appended.
    pub appended: u64,
    /// Lines already in the log.
    pub duplicates: u64,
    /// Seconds spent appending and folding.
    pub append_seconds: f64,
    /// The rebuild that made a projection first, when the database had
    /// none (or one of another fold version).
    pub rebuild: Option<RebuildReport>,
}

/// Imports `path` into the database `options` name.
pub async fn import_file(options: &StoreOptions, path: &Path) -> Result<ImportReport, ImportError> {
    let store = Store::open(options).await.map_err(ServeError::from)?;
    let read_error = |source| ImportError::Read {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read_error)?;
    let (fold, rebuild) = folding_appends(&store).await?;
    let started = Instant::now();
    let (mut lines, mut appended, mut duplicates) = (0u64, 0u64, 0u64);
    let mut batch = Vec::with_capacity(IMPORT_BATCH);
    for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(read_error)?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: ImportLine =
            serde_json::from_str(&line).map_err(|source| ImportError::BadLine {
                line: index + 1,
                source,
            })?;
        batch.push(entry_from(parsed));
        lines += 1;
        if batch.len() == IMPORT_BATCH {
            let (a, d) = append_folded(&store, &fold, std::mem::take(&mut batch)).await?;
            (appended, duplicates) = (appended + a, duplicates + d);
        }
    }
    let (a, d) = append_folded(&store, &fold, batch).await?;
    (appended, duplicates) = (appended + a, duplicates + d);
    let append_seconds = started.elapsed().as_secs_f64();
    Ok(ImportReport {
        lines,
        appended,
        duplicates,
        append_seconds,
        rebuild,
    })
}

fn entry_from(line: ImportLine) -> NewEntry {
    let received_at = line.timestamp.saturating_mul(1_000_000);
    NewEntry::interpreted(
        line.webhook_id,
        received_at,
        "import".to_owned(),
        line.body.into_bytes(),
    )
}

/// Makes `store` ready for appends folded as they are appended: a
/// projection first, rebuilt from what is logged when there is none (or
/// one of another fold version); returns the hook that folds, and that
/// rebuild.
pub(crate) async fn folding_appends(
    store: &Store,
) -> Result<(Arc<dyn AppendHook>, Option<RebuildReport>), ServeError> {
    let projector = Projector::new(store.clone(), Default::default());
    let rebuild = projector.prepare().await?;
    projector.retired().await;
    Ok((Arc::new(LiveFold::new(ChangeFeed::default())), rebuild))
}

/// Appends `batch` in one transaction that folds it with `fold`; returns
/// how many entries were appended and how many were in the log already.
pub(crate) async fn append_folded(
    store: &Store,
    fold: &Arc<dyn AppendHook>,
    batch: Vec<NewEntry>,
) -> Result<(u64, u64), ServeError> {
    if batch.is_empty() {
        return Ok((0, 0));
    }
    let outcomes = store.append_batch_with(batch, fold.clone()).await?;
    let appended = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, AppendOutcome::Appended(_)))
        .count() as u64;
    Ok((appended, outcomes.len() as u64 - appended))
}
