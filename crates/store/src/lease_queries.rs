//! The rebuild lease: one rebuild at a time across every process on the
//! database. Taken, renewed and released in write transactions, which
//! exclude each other on both backends, so two processes never both find
//! it free.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

use crate::entity::projection_meta;
use crate::entity::rebuild_lease::{self, Column, Entity as RebuildLeaseTable};
use crate::error::StoreError;
use crate::open::Store;
use crate::projection_queries::{ProjectionMeta, latest_generation};
use crate::writer::Commit;
use crate::writer_queries::ProjectionTxn;

/// The lease's row, by name: there is one.
const LEASE: &str = "projection";

pub use crate::entity::rebuild_lease::Model as RebuildLease;

/// What [`Store::take_rebuild_lease`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseTaken {
    /// The lease is the caller's, for the new generation it names, whose
    /// meta row now exists.
    Taken(i64),
    /// Another process holds it and it has not run out.
    HeldBy(RebuildLease),
}

/// The lease as a connection sees it, if it has not run out at `now`.
fn live_lease(db: &DatabaseConnection, now: i64) -> Result<Option<RebuildLease>, DbErr> {
    RebuildLeaseTable::find_by_id(LEASE.to_owned())
        .filter(Column::ExpiresAt.gt(now))
        .one(db)
}

impl Store {
    /// Takes the lease for `holder` until `now + ttl` (µs) unless another
    /// holder's has not run out, and in the same transaction creates the
    /// meta row of the next generation from `shadow` (its number replaced):
    /// so no two processes build one generation. A lease that ran out —
    /// its holder died mid-rebuild — is simply taken over.
    pub async fn take_rebuild_lease(
        &self,
        holder: &str,
        now: i64,
        ttl: i64,
        shadow: ProjectionMeta,
    ) -> Result<LeaseTaken, StoreError> {
        let holder = holder.to_owned();
        self.write(Commit::Synced, move |txn| {
            let db = txn.connection();
            if let Some(held) = live_lease(db, now)?.filter(|lease| lease.holder != holder) {
                return Ok(LeaseTaken::HeldBy(held));
            }
            let generation = latest_generation(db)? + 1;
            let lease = rebuild_lease::ActiveModel {
                name: ActiveValue::Set(LEASE.to_owned()),
                holder: ActiveValue::Set(holder),
                generation: ActiveValue::Set(generation),
                acquired_at: ActiveValue::Set(now),
                expires_at: ActiveValue::Set(now.saturating_add(ttl)),
            };
            RebuildLeaseTable::insert(lease)
                .on_conflict(
                    OnConflict::column(Column::Name)
                        .update_columns([
                            Column::Holder,
                            Column::Generation,
                            Column::AcquiredAt,
                            Column::ExpiresAt,
                        ])
                        .to_owned(),
                )
                .exec_without_returning(db)?;
            let meta = ProjectionMeta {
                generation,
                ..shadow
            };
            projection_meta::Entity::insert(projection_meta::ActiveModel::from(meta))
                .exec_without_returning(db)?;
            Ok::<_, StoreError>(LeaseTaken::Taken(generation))
        })
        .await
    }

    /// Extends `holder`'s lease to `now + ttl`; `false` when it is not
    /// `holder`'s any more (it ran out and another process took it).
    pub async fn renew_rebuild_lease(
        &self,
        holder: &str,
        now: i64,
        ttl: i64,
    ) -> Result<bool, StoreError> {
        let holder = holder.to_owned();
        self.write(Commit::Synced, move |txn| {
            let db = txn.connection();
            let held = RebuildLeaseTable::find_by_id(LEASE.to_owned())
                .filter(Column::Holder.eq(holder.clone()))
                .one(db)?;
            if held.is_none() {
                return Ok(false);
            }
            RebuildLeaseTable::update_many()
                .col_expr(Column::ExpiresAt, now.saturating_add(ttl).into())
                .filter(Column::Name.eq(LEASE))
                .filter(Column::Holder.eq(holder))
                .exec(db)?;
            Ok::<_, StoreError>(true)
        })
        .await
    }

    /// Gives `holder`'s lease up (nothing if it is not `holder`'s).
    pub async fn release_rebuild_lease(&self, holder: &str) -> Result<(), StoreError> {
        let holder = holder.to_owned();
        self.write(Commit::Synced, move |txn| {
            RebuildLeaseTable::delete_many()
                .filter(Column::Name.eq(LEASE))
                .filter(Column::Holder.eq(holder))
                .exec(txn.connection())?;
            Ok::<_, StoreError>(())
        })
        .await
    }

    /// The lease, if some process holds it at `now`: a rebuild is running
    /// somewhere in the deployment.
    pub async fn rebuild_lease(&self, now: i64) -> Result<Option<RebuildLease>, StoreError> {
        self.read(move |db| live_lease(db, now)).await
    }
}

impl ProjectionTxn<'_> {
    /// Whether `holder` still holds the lease at `now`, as this
    /// transaction sees it: a rebuild checks it in its swap, so one whose
    /// lease ran out (and was taken over) never swaps.
    pub fn holds_rebuild_lease(&self, holder: &str, now: i64) -> Result<bool, StoreError> {
        let lease = live_lease(self.connection(), now)?;
        Ok(lease.is_some_and(|lease| lease.holder == holder))
    }
}
