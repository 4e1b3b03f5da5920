//! `producer_state`: the folded state of each producer, per generation.

use sea_orm::entity::prelude::*;

/// One producer's state in one projection generation: what dashboards
/// filter on in typed columns, and the rest of what the fold needs as one
/// JSON document (`fold_state`, written by the projection crate). Times
/// are microseconds since the epoch; the view `current_producers` shows
/// the current generation with them as text. See docs/architecture.md.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "producer_state")]
pub struct Model {
    /// The projection generation this row belongs to.
    #[sea_orm(primary_key, auto_increment = false)]
    pub generation: i64,
    /// The producer's NPN.
    #[sea_orm(primary_key, auto_increment = false)]
    pub npn: String,
    /// `ACTIVE` or `INACTIVE` (never activated counts as inactive).
    pub status: String,
    /// The stamps the fold compares and the sub-records, as JSON.
    pub fold_state: String,
    /// The last log position folded into this row.
    pub last_position: i64,
    /// When the producer was last activated; `NULL`: never.
    pub last_activated_at: Option<i64>,
    /// When the producer was last deactivated; `NULL`: never.
    pub last_deactivated_at: Option<i64>,
    /// The time of its earliest event; `NULL`: no event had a time.
    pub first_event_at: Option<i64>,
    /// The time of its latest event; `NULL`: no event had a time.
    pub last_event_at: Option<i64>,
    /// How many distinct events were folded into it.
    pub event_count: i64,
    /// Whether its latest profile event is a deletion.
    pub deleted: bool,
    /// Its latest profile (`id.producer.updated` data) as sent; `NULL`:
    /// none received.
    pub profile: Option<String>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
