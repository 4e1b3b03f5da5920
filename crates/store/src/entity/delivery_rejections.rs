//! `delivery_rejections`: refused deliveries counted per hour and reason.

use sea_orm::entity::prelude::*;

/// How many deliveries were refused for one reason in one hour.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "delivery_rejections")]
pub struct Model {
    /// The start of the hour, in microseconds since the epoch.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hour_start: i64,
    /// The stable error code (`signature_mismatch`, `stale_timestamp`, …).
    #[sea_orm(primary_key, auto_increment = false)]
    pub reason: String,
    /// How many.
    pub count: i64,
    /// The latest one, in microseconds since the epoch.
    pub last_at: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
