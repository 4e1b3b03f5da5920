//! What the projection does inside a write transaction (an append batch,
//! a rebuild's shadow rows, catch-up rounds and swap): [`ProjectionTxn`].
//! Each builds the same sea-query statement as its async sibling where one
//! exists.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use store_direct::{DbErr, DirectError, DirectTxn, QueryResult};

use crate::LogEntry;
use crate::entity::event_log::{self, Entity as EventLog};
use crate::error::StoreError;
use crate::projection_queries::{
    ProducerRow, ProducerUpserts, ProjectionMeta, RebuildFigures, current_meta_select,
    producers_select, set_applied_update, swap_generation_updates,
};

/// The current generation's meta row, as this transaction sees it.
fn current_meta_in(txn: &DirectTxn) -> Result<Option<ProjectionMeta>, StoreError> {
    let rows = txn.query_all(&current_meta_select().into_query())?;
    Ok(rows
        .first()
        .map(meta_from_row)
        .transpose()
        .map_err(DirectError::from)?)
}

/// The rows of these NPNs in a generation.
fn load_producers_in(
    txn: &DirectTxn,
    generation: i64,
    npns: Vec<String>,
) -> Result<Vec<ProducerRow>, StoreError> {
    let rows = txn.query_all(&producers_select(generation, npns).into_query())?;
    let rows = rows
        .iter()
        .map(ProducerRow::from_direct)
        .collect::<Result<_, _>>();
    Ok(rows.map_err(DirectError::from)?)
}

/// Records how far a generation has folded the log, and its global facts.
fn set_applied_in(
    txn: &DirectTxn,
    generation: i64,
    applied_position: i64,
    global_state: String,
) -> Result<(), StoreError> {
    txn.update(&set_applied_update(
        generation,
        applied_position,
        global_state,
    ))?;
    Ok(())
}

/// Makes `new` the current generation in place of every other, with the
/// rebuild's figures.
fn swap_generation_in(
    txn: &DirectTxn,
    new: i64,
    figures: RebuildFigures,
) -> Result<(), StoreError> {
    for update in swap_generation_updates(new, figures) {
        txn.update(&update)?;
    }
    Ok(())
}

/// The log entries after position `after`, oldest first, at most `limit`
/// of them: what a rebuild folds in each round of its catch-up.
fn entries_after_in(txn: &DirectTxn, after: i64, limit: u64) -> Result<Vec<LogEntry>, StoreError> {
    let select = EventLog::find()
        .filter(event_log::Column::Position.gt(after))
        .order_by_asc(event_log::Column::Position)
        .limit(limit)
        .into_query();
    let rows = txn.query_all(&select)?;
    let entries = rows.iter().map(entry_from_row).collect::<Result<_, _>>();
    Ok(entries.map_err(DirectError::from)?)
}

fn meta_from_row(row: &QueryResult) -> Result<ProjectionMeta, DbErr> {
    Ok(ProjectionMeta {
        generation: row.try_get("", "generation")?,
        is_current: row.try_get("", "is_current")?,
        fold_version: row.try_get("", "fold_version")?,
        applied_position: row.try_get("", "applied_position")?,
        global_state: row.try_get("", "global_state")?,
        started_at: row.try_get("", "started_at")?,
        finished_at: row.try_get("", "finished_at")?,
        events_folded: row.try_get("", "events_folded")?,
        producers_written: row.try_get("", "producers_written")?,
        duration_ms: row.try_get("", "duration_ms")?,
    })
}

fn entry_from_row(row: &QueryResult) -> Result<LogEntry, DbErr> {
    Ok(LogEntry {
        position: row.try_get("", "position")?,
        webhook_id: row.try_get("", "webhook_id")?,
        event_id: row.try_get("", "event_id")?,
        event_type: row.try_get("", "event_type")?,
        occurred_at: row.try_get("", "occurred_at")?,
        received_at: row.try_get("", "received_at")?,
        source: row.try_get("", "source")?,
        npn: row.try_get("", "npn")?,
        unfolded_reason: row.try_get("", "unfolded_reason")?,
        body: row.try_get("", "body")?,
        record_id: row.try_get("", "record_id")?,
        columns_suffice_under: row.try_get("", "columns_suffice_under")?,
    })
}

/// A write transaction, as the projection sees it: an append batch's (in
/// [`crate::AppendHook::after_append`]) or one of
/// [`Store::write_transaction`](crate::Store::write_transaction)'s. Whatever
/// is done through it commits or rolls back with the transaction.
pub struct ProjectionTxn<'a> {
    txn: &'a DirectTxn<'a>,
}

impl<'a> ProjectionTxn<'a> {
    pub(crate) fn new(txn: &'a DirectTxn<'a>) -> Self {
        Self { txn }
    }

    /// The current generation's meta row, as this transaction sees it.
    pub fn current_meta(&self) -> Result<Option<ProjectionMeta>, StoreError> {
        current_meta_in(self.txn)
    }

    /// The rows of these NPNs in a generation.
    pub fn load_producers(
        &self,
        generation: i64,
        npns: Vec<String>,
    ) -> Result<Vec<ProducerRow>, StoreError> {
        load_producers_in(self.txn, generation, npns)
    }

    /// Inserts or replaces producer rows in a generation.
    pub fn upsert_producers(&self, upserts: ProducerUpserts) -> Result<(), StoreError> {
        for statement in upserts.into_statements() {
            self.txn.execute(statement)?;
        }
        Ok(())
    }

    /// Records how far a generation has folded the log, and its global
    /// facts.
    pub fn set_applied(
        &self,
        generation: i64,
        applied_position: i64,
        global_state: String,
    ) -> Result<(), StoreError> {
        set_applied_in(self.txn, generation, applied_position, global_state)
    }

    /// Makes `new` the current generation in place of every other.
    pub fn swap_generation(&self, new: i64, figures: RebuildFigures) -> Result<(), StoreError> {
        swap_generation_in(self.txn, new, figures)
    }

    /// Up to `limit` log entries after position `after`, oldest first.
    pub fn entries_after(&self, after: i64, limit: u64) -> Result<Vec<LogEntry>, StoreError> {
        entries_after_in(self.txn, after, limit)
    }
}
