//! Counting refused deliveries, without their bodies.

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QueryTrait};

use crate::entity::delivery_rejections::{self, Column, Entity as DeliveryRejections};
use crate::{Commit, Store, StoreError};

/// Refusals for one reason in one hour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectionCount {
    /// Start of the hour, µs since the epoch.
    pub hour_start: i64,
    /// The stable error code.
    pub reason: String,
    /// How many.
    pub count: i64,
    /// The latest, µs since the epoch.
    pub last_at: i64,
}

impl Store {
    /// Adds counts (merged with what is stored for the same hour and reason).
    pub async fn add_rejections(&self, counts: Vec<RejectionCount>) -> Result<(), StoreError> {
        if counts.is_empty() {
            return Ok(());
        }
        let models = counts
            .into_iter()
            .map(|c| delivery_rejections::ActiveModel {
                hour_start: ActiveValue::Set(c.hour_start),
                reason: ActiveValue::Set(c.reason),
                count: ActiveValue::Set(c.count),
                last_at: ActiveValue::Set(c.last_at),
            });
        let merge = OnConflict::columns([Column::HourStart, Column::Reason])
            .value(
                Column::Count,
                Expr::col((DeliveryRejections, Column::Count)).add(Expr::cust("excluded.count")),
            )
            .update_column(Column::LastAt)
            .to_owned();
        let insert = DeliveryRejections::insert_many(models)
            .on_conflict(merge)
            .into_query();
        self.write(Commit::Synced, move |txn| {
            Ok::<_, StoreError>(txn.execute(txn.backend().build(&insert))?)
        })
        .await
    }

    /// Counts whose hour starts at or after `since` (µs), oldest first.
    pub async fn rejections_since(&self, since: i64) -> Result<Vec<RejectionCount>, StoreError> {
        let select = DeliveryRejections::find()
            .filter(Column::HourStart.gte(since))
            .order_by_asc(Column::HourStart)
            .order_by_asc(Column::Reason);
        let rows = self.read(move |db| select.all(db)).await?;
        Ok(rows
            .into_iter()
            .map(|row| RejectionCount {
                hour_start: row.hour_start,
                reason: row.reason,
                count: row.count,
                last_at: row.last_at,
            })
            .collect())
    }
}
