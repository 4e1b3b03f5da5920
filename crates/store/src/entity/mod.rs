//! sea-orm entities, one file per table. They mirror `migrations/`.

pub mod delivery_rejections;
pub mod event_log;
pub mod producer_state;
pub mod projection_meta;
pub mod rebuild_lease;
