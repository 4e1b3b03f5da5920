//! What the projection does inside a write transaction (an append batch,
//! a rebuild's shadow rows, catch-up rounds and swap): [`ProjectionTxn`].

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::LogEntry;
use crate::database::WriteTxn;
use crate::entity::event_log::{self, Entity as EventLog};
use crate::error::StoreError;
use crate::projection_queries::{
    ProducerRow, ProducerUpserts, ProjectionMeta, RebuildFigures, current_meta, producers_select,
    set_applied_update, swap_generation_updates,
};

/// A write transaction, as the projection sees it: an append batch's (in
/// [`crate::AppendHook::after_append`]) or one of
/// [`Store::write_transaction`](crate::Store::write_transaction)'s. Whatever
/// is done through it commits or rolls back with the transaction.
pub struct ProjectionTxn<'a> {
    txn: &'a WriteTxn<'a>,
}

impl<'a> ProjectionTxn<'a> {
    pub(crate) fn new(txn: &'a WriteTxn<'a>) -> Self {
        Self { txn }
    }

    /// The transaction's connection, for the store's own queries.
    pub(crate) fn connection(&self) -> &sea_orm::DatabaseConnection {
        self.txn.connection()
    }

    /// The current generation's meta row, as this transaction sees it.
    pub fn current_meta(&self) -> Result<Option<ProjectionMeta>, StoreError> {
        Ok(current_meta(self.txn.connection())?)
    }

    /// The rows of these NPNs in a generation.
    pub fn load_producers(
        &self,
        generation: i64,
        npns: Vec<String>,
    ) -> Result<Vec<ProducerRow>, StoreError> {
        Ok(producers_select(generation, npns).all(self.txn.connection())?)
    }

    /// Inserts or replaces producer rows in a generation.
    pub fn upsert_producers(&self, upserts: ProducerUpserts) -> Result<(), StoreError> {
        Ok(upserts.run(self.txn)?)
    }

    /// Records how far a generation has folded the log, and its global
    /// facts.
    pub fn set_applied(
        &self,
        generation: i64,
        applied_position: i64,
        global_state: String,
    ) -> Result<(), StoreError> {
        let update = set_applied_update(generation, applied_position, global_state);
        Ok(self.txn.update(&update)?)
    }

    /// Makes `new` the current generation in place of every other, with
    /// the rebuild's figures.
    pub fn swap_generation(&self, new: i64, figures: RebuildFigures) -> Result<(), StoreError> {
        for update in swap_generation_updates(new, figures) {
            self.txn.update(&update)?;
        }
        Ok(())
    }

    /// Up to `limit` log entries after position `after`, oldest first:
    /// what a rebuild folds in each round of its catch-up.
    pub fn entries_after(&self, after: i64, limit: u64) -> Result<Vec<LogEntry>, StoreError> {
        Ok(EventLog::find()
            .filter(event_log::Column::Position.gt(after))
            .order_by_asc(event_log::Column::Position)
            .limit(limit)
            .all(self.txn.connection())?)
    }
}
