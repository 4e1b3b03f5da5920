//! `producer_state`: the folded state of each producer, per generation.

use sea_orm::entity::prelude::*;

/// One producer's state in one projection generation. `state` is the
/// projection's own JSON document; `status` is copied out of it so that
/// queries can filter and page by it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "producer_state")]
pub struct Model {
    /// The projection generation this row belongs to.
    #[sea_orm(primary_key, auto_increment = false)]
    pub generation: i64,
    /// The producer's NPN.
    #[sea_orm(primary_key, auto_increment = false)]
    pub npn: String,
    /// `ACTIVE` or `INACTIVE`.
    pub status: String,
    /// The folded state, serialised by the projection crate.
    pub state: String,
    /// The last log position folded into this row.
    pub last_position: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
