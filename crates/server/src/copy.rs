//! `copy`: the whole log of one database appended to another — raw bodies,
//! webhook ids, reception times and sources as they are — with the
//! projection built there as it goes: the move from a SQLite file to
//! PostgreSQL.
//!
//! Entries go in position order, in batches each folded in the transaction
//! that appends it (as `import` does), so into an empty database they land
//! at the positions they had, and every query answers as on the source.
//! The duplicate rules of deliveries apply: copying again appends nothing,
//! and a copy stopped half way goes on where it stopped.

use std::time::Instant;

use event_store::{LogFilter, NewEntry, Store, StoreOptions};

use crate::import::{append_folded, folding_appends};
use crate::serve::ServeError;

/// Entries read and appended per transaction.
const COPY_BATCH: u64 = 5_000;

/// What a copy did.
#[derive(Debug, Clone)]
pub struct CopyReport {
    /// Entries read from the source.
    pub read: u64,
    /// Entries appended to the destination.
    pub appended: u64,
    /// Entries the destination had already.
    pub duplicates: u64,
    /// Entries the destination held before the copy: when not 0, the
    /// copied entries took positions after them.
    pub destination_had: i64,
    /// Seconds spent.
    pub seconds: f64,
}

/// Why a copy stopped.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Source and destination are the same database.
    #[error("--from and --to name the same database")]
    SameDatabase,
    /// Either store failed.
    #[error(transparent)]
    Service(#[from] ServeError),
}

impl From<event_store::StoreError> for CopyError {
    fn from(error: event_store::StoreError) -> Self {
        Self::Service(ServeError::from(error))
    }
}

/// Copies the log of `from` into `to`, folding it there.
pub async fn copy_log(from: &StoreOptions, to: &StoreOptions) -> Result<CopyReport, CopyError> {
    if from.url == to.url {
        return Err(CopyError::SameDatabase);
    }
    let started = Instant::now();
    let source = Store::open(from).await?;
    let destination = Store::open(to).await?;
    let destination_had = destination.log_head().await?;
    let (fold, _rebuild) = folding_appends(&destination).await?;
    let mut report = CopyReport {
        read: 0,
        appended: 0,
        duplicates: 0,
        destination_had,
        seconds: 0.0,
    };
    let mut after = 0;
    loop {
        let page = source
            .list_entries(&LogFilter::default(), after, COPY_BATCH)
            .await?;
        let Some(last) = page.last().map(|entry| entry.position) else {
            break;
        };
        after = last;
        report.read += page.len() as u64;
        let batch = page
            .into_iter()
            .map(|entry| {
                NewEntry::interpreted(
                    entry.webhook_id,
                    entry.received_at,
                    entry.source,
                    entry.body,
                )
            })
            .collect();
        let (appended, duplicates) = append_folded(&destination, &fold, batch).await?;
        report.appended += appended;
        report.duplicates += duplicates;
    }
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}
