//! PostgreSQL rows as sea-orm proxy rows: each column's value as the
//! sea-query value of the Rust type the store reads it into.

use sea_orm::sea_query::Value;
use sea_orm::{DbErr, ProxyRow};
use tokio_postgres::Row;
use tokio_postgres::types::{FromSql, Type};

/// The row's columns, by name and in the order selected (the store reads
/// some by place, as on SQLite).
pub(crate) fn proxy_row(row: &Row) -> Result<ProxyRow, DbErr> {
    let columns =
        row.columns().iter().enumerate().map(|(index, column)| {
            Ok((column.name().to_owned(), value(row, index, column.type_())?))
        });
    Ok(ProxyRow::in_order(columns.collect::<Result<_, DbErr>>()?))
}

fn value(row: &Row, index: usize, kind: &Type) -> Result<Value, DbErr> {
    Ok(match *kind {
        Type::BOOL => Value::Bool(get(row, index)?),
        Type::INT2 => Value::Int(get::<i16>(row, index)?.map(i32::from)),
        Type::INT4 => Value::Int(get(row, index)?),
        Type::INT8 => Value::BigInt(get(row, index)?),
        Type::FLOAT4 => Value::Double(get::<f32>(row, index)?.map(f64::from)),
        Type::FLOAT8 => Value::Double(get(row, index)?),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
            Value::String(get::<String>(row, index)?)
        }
        Type::BYTEA => Value::Bytes(get(row, index)?),
        _ => {
            return Err(DbErr::Type(format!(
                "column {} has type {}, which the store does not read",
                row.columns()[index].name(),
                kind
            )));
        }
    })
}

fn get<'a, T: FromSql<'a>>(row: &'a Row, index: usize) -> Result<Option<T>, DbErr> {
    row.try_get(index)
        .map_err(|error| DbErr::Type(error.to_string()))
}
