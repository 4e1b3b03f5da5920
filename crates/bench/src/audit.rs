//! Reading a whole log back after a run: which deliveries it holds, and
//! whether its positions and keys are as they must be.

use std::collections::HashSet;

use event_store::{LogFilter, Store, StoreOptions};

use crate::ingest::webhook_id;

/// What the log holds.
#[derive(Debug, Default)]
pub struct LogAudit {
    /// Every webhook id in the log.
    pub webhook_ids: HashSet<String>,
    /// Entries in the log.
    pub logged: usize,
    /// Entries whose webhook id appeared earlier in the log.
    pub duplicated: usize,
    /// Whether positions run 1..=n without a gap.
    pub gap_free: bool,
}

impl LogAudit {
    /// Reads every entry of the database at `url`.
    pub async fn of(url: &str) -> anyhow::Result<Self> {
        let store = Store::open(&StoreOptions::new(url.to_owned())).await?;
        let mut audit = Self {
            gap_free: true,
            ..Self::default()
        };
        let mut after = 0;
        loop {
            let page = store
                .list_entries(&LogFilter::default(), after, 50_000)
                .await?;
            let Some(last) = page.last() else {
                return Ok(audit);
            };
            after = last.position;
            for entry in page {
                audit.logged += 1;
                audit.gap_free &= entry.position == audit.logged as i64;
                if !audit.webhook_ids.insert(entry.webhook_id) {
                    audit.duplicated += 1;
                }
            }
        }
    }

    /// How many of these acknowledged `(worker, sequence)` deliveries are
    /// missing from the log.
    pub fn missing(&self, acked: &[(usize, u64)]) -> usize {
        acked
            .iter()
            .filter(|(worker, sequence)| {
                !self.webhook_ids.contains(&webhook_id(*worker, *sequence))
            })
            .count()
    }
}
