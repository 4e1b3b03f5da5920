//! `rebuild_lease`: who may rebuild the projection now.

use sea_orm::entity::prelude::*;

/// The one lease (named `projection`): its holder, the generation it
/// builds, and until when it holds it unless renewed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rebuild_lease")]
pub struct Model {
    /// What the lease is for (`projection`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    /// The process holding it (host, process id and a random suffix).
    pub holder: String,
    /// The shadow generation the holder builds.
    pub generation: i64,
    /// When the holder took it, in microseconds since the epoch.
    pub acquired_at: i64,
    /// When it runs out unless renewed, in microseconds since the epoch.
    pub expires_at: i64,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
