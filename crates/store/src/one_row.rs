//! Inserts of one row each, whose SQL text is built once — and on
//! PostgreSQL, inserts of many rows each.
//!
//! On SQLite, appends and the projection's upserts write one row per
//! statement. The
//! SQL of a one-row insert is the same for every row, so it is built by
//! sea-query on first use and kept; each row only binds its own values to
//! the statement the database keeps prepared. Compared with a multi-row
//! `INSERT … VALUES (…), (…)` of a thousand rows this builds no SQL text
//! and no value list per chunk, and a one-row statement, having one row to
//! undo, needs no statement journal (SQLite keeps one for a multi-row
//! statement inside a transaction, so that a constraint it breaks can undo
//! that statement alone).
//!
//! On PostgreSQL each statement is a round trip to the server, made while
//! the write lock that orders every replica's appends is held: one per row
//! made a batch of 64 deliveries some 130 round trips. There a batch's
//! rows go in statements of up to a thousand rows each
//! ([`OneRowInsert::insert_all`]).

use sea_orm::sea_query::{Expr, OnConflict, Query, Value};
use sea_orm::{ActiveModelTrait, DbErr, EntityTrait, Iterable};
use sea_orm::{DbBackend, Statement};

use crate::database::WriteTxn;
use crate::per_backend::PerBackend;

/// The `INSERT` of one row of one entity, every column set, with an
/// optional `ON CONFLICT` clause. One value of this type serves one entity
/// and one clause (it is meant to be a `static`): the SQL built for the
/// first row on a backend is reused for every later one.
pub(crate) struct OneRowInsert {
    on_conflict: fn() -> Option<OnConflict>,
    sql: PerBackend<Result<String, String>>,
}

/// The values of one row, in its entity's column order, ready to be bound
/// to a [`OneRowInsert`] of that entity.
#[derive(Debug)]
pub(crate) struct RowValues(Vec<Value>);

impl RowValues {
    /// The value of each column of `model`, whose every column must be set.
    pub(crate) fn of<A: ActiveModelTrait>(model: A) -> Result<Self, DbErr> {
        column_values(model).map(Self)
    }
}

impl OneRowInsert {
    /// An insert with the clause `on_conflict` gives (`None`: a row whose
    /// key exists already fails the insert).
    pub(crate) const fn new(on_conflict: fn() -> Option<OnConflict>) -> Self {
        Self {
            on_conflict,
            sql: PerBackend::new(),
        }
    }

    /// The statement inserting the row of `E` whose values are `values`.
    pub(crate) fn bind<E: EntityTrait>(
        &self,
        backend: DbBackend,
        RowValues(values): RowValues,
    ) -> Result<Statement, DbErr> {
        let sql = self
            .sql
            .get_or_init(backend, || self.build::<E>(backend, &values))
            .clone()
            .map_err(DbErr::Custom)?;
        Ok(Statement::from_sql_and_values(backend, sql, values))
    }

    /// Inserts `rows` of `E` in `txn`, in order: one statement per row, or
    /// where the backend takes several rows per statement
    /// ([`WriteTxn::rows_per_insert`]), statements of that many rows, each
    /// built for its rows.
    pub(crate) fn insert_all<E: EntityTrait>(
        &self,
        txn: &WriteTxn,
        rows: Vec<RowValues>,
    ) -> Result<(), DbErr> {
        let per_statement = txn.rows_per_insert();
        if per_statement <= 1 {
            for row in rows {
                txn.execute(self.bind::<E>(txn.backend(), row)?)?;
            }
            return Ok(());
        }
        for chunk in rows.chunks(per_statement) {
            let mut insert = Query::insert();
            insert.into_table(E::default()).columns(E::Column::iter());
            for RowValues(values) in chunk {
                insert
                    .values(values.iter().cloned().map(Expr::val))
                    .map_err(|error| DbErr::Custom(error.to_string()))?;
            }
            if let Some(on_conflict) = (self.on_conflict)() {
                insert.on_conflict(on_conflict);
            }
            txn.execute(txn.backend().build(&insert))?;
        }
        Ok(())
    }

    /// The SQL text for one row of `E` (its values are bound separately).
    fn build<E: EntityTrait>(
        &self,
        backend: DbBackend,
        values: &[Value],
    ) -> Result<String, String> {
        let mut insert = Query::insert();
        insert
            .into_table(E::default())
            .columns(E::Column::iter())
            .values(values.iter().cloned().map(Expr::val))
            .map_err(|error| error.to_string())?;
        if let Some(on_conflict) = (self.on_conflict)() {
            insert.on_conflict(on_conflict);
        }
        Ok(backend.build(&insert).sql)
    }
}

impl std::fmt::Debug for OneRowInsert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OneRowInsert")
            .field("on_conflict", &(self.on_conflict)())
            .finish_non_exhaustive()
    }
}

/// The value of each column of `model`, in the entity's column order (the
/// order [`OneRowInsert::build`] lists the columns in).
fn column_values<A: ActiveModelTrait>(mut model: A) -> Result<Vec<Value>, DbErr> {
    <A::Entity as EntityTrait>::Column::iter()
        .map(|column| {
            model
                .take(column)
                .into_value()
                .ok_or_else(|| DbErr::Custom("a one-row insert needs every column set".into()))
        })
        .collect()
}
