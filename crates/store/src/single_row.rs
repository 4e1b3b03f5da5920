//! Reading the one row of a key lookup or an aggregate without `LIMIT ?`.
//!
//! sea-orm's `one()` appends `LIMIT ?` and binds 1. SQLite (3.47 and
//! later) plans a bound LIMIT from its value, so it marks such a statement
//! to be prepared again whenever the parameter is bound: every execution
//! re-parsed and re-planned its SQL, about a tenth of the CPU of a
//! `producer(npn)` query and a parse per group commit. Queries that can
//! only return one row (a unique key, an aggregate) read it with this
//! instead and keep their prepared statement.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QuerySelect, Selector, SelectorTrait};

/// The first (and only) row of `selector`, which must select at most one
/// row by construction.
pub(crate) fn single_row<S, C>(selector: Selector<S>, db: &C) -> Result<Option<S::Item>, DbErr>
where
    S: SelectorTrait,
    C: ConnectionTrait,
{
    Ok(selector.all(db)?.into_iter().next())
}

/// The largest value of an integer column of `E` (`None` when the table is
/// empty): the log head, the latest generation, the latest reception.
pub(crate) fn max_of<E, C>(column: E::Column, db: &C) -> Result<Option<i64>, DbErr>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let max: Option<Option<i64>> = single_row(
        E::find()
            .select_only()
            .expr(Expr::col(column).max())
            .into_tuple(),
        db,
    )?;
    Ok(max.flatten())
}
