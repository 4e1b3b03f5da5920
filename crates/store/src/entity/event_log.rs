//! `event_log`: one row per verified delivery, in commit order.

use sea_orm::entity::prelude::*;

/// A log entry exactly as stored. `position` is gap-free and in commit
/// order; `body` holds the raw bytes as received.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "event_log")]
pub struct Model {
    /// Gap-free, 1-based position in commit order.
    #[sea_orm(primary_key, auto_increment = false)]
    pub position: i64,
    /// The `webhook-id` header: the delivery key.
    #[sea_orm(unique)]
    pub webhook_id: String,
    /// The envelope `id`: the event key, where the body has one.
    #[sea_orm(unique)]
    pub event_id: Option<String>,
    /// The envelope `type`, where the body has one.
    pub event_type: Option<String>,
    /// The envelope `timestamp` in microseconds since the epoch.
    pub occurred_at: Option<i64>,
    /// When the delivery was received, in microseconds since the epoch.
    pub received_at: i64,
    /// The webhook path it arrived on (`/webhooks/agentsync`, …).
    pub source: String,
    /// The normalised `data.npn`, where the event names one.
    pub npn: Option<String>,
    /// Why the body could not be folded (`None` when it was understood).
    pub unfolded_reason: Option<String>,
    /// The raw body bytes, exactly as received and verified.
    pub body: Vec<u8>,
    /// `data.id` of a sub-record event.
    pub record_id: Option<String>,
    /// When the columns above say all the body says (an understood event
    /// other than a profile update or `updates_available`), the
    /// interpreter version that filled them
    /// (`agentsync_events::INTERPRETER_VERSION`): a rebuild under that
    /// version need not read the body. `None` otherwise, and for entries
    /// appended before it was stored.
    pub columns_suffice_under: Option<i32>,
}

/// The log has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// When the event counts as having occurred: its own timestamp, or when
    /// it was received if it has none.
    pub fn effective_time(&self) -> i64 {
        self.occurred_at.unwrap_or(self.received_at)
    }
}
