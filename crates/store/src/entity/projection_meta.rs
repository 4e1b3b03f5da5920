//! `projection_meta`: one row per projection generation.

use sea_orm::entity::prelude::*;

/// A projection generation: how far it has folded the log, with which fold
/// version, and (for rebuilt generations) the rebuild's figures.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "projection_meta")]
pub struct Model {
    /// The generation number; a rebuild creates the next one.
    #[sea_orm(primary_key, auto_increment = false)]
    pub generation: i64,
    /// Whether queries read this generation.
    pub is_current: bool,
    /// The fold version that built it.
    pub fold_version: i32,
    /// The last log position folded in.
    pub applied_position: i64,
    /// Facts that belong to no producer (the last runDate), as JSON.
    pub global_state: String,
    /// When the generation was started, in microseconds since the epoch.
    pub started_at: i64,
    /// When its rebuild finished and it was swapped in.
    pub finished_at: Option<i64>,
    /// Events folded by the rebuild.
    pub events_folded: Option<i64>,
    /// Producers written by the rebuild.
    pub producers_written: Option<i64>,
    /// The rebuild's duration in milliseconds.
    pub duration_ms: Option<i64>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
