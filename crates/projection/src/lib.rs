//! The projection, fourth stage of the line verify → append → fold → serve.
//!
//! [`fold`] is pure: (state, event) → state, no IO, no clock. The state
//! depends only on the set of events folded, never on their order: for each
//! attribute the event with the latest `(occurred_at, event_id)` wins.
//! [`Projector`] applies the fold to each appended batch inside the append
//! transaction, and rebuilds the whole projection from the log into a shadow
//! generation that is swapped in without downtime.

mod event;
mod feed;
mod fold;
mod history;
mod lease;
mod projector;
mod rebuild;
mod state;
mod stored;

pub use event::FoldEvent;
pub use feed::{ChangeFeed, FeedFollower, ProducerChange};
pub use fold::{FOLD_VERSION, Projection, fold, fold_global, fold_owned};
pub use history::{STATUS_TYPES, active_count_series, active_npns, status_event};
pub use projector::{LiveFold, Projector, ProjectorError};
pub use rebuild::{EVENTS_PER_PASS, RebuildReport};
pub use state::{
    GlobalState, PayloadAt, ProducerState, Stamp, Status, SubRecord, SubRecords, SubRecordsById,
    Versioned,
};
pub use stored::decode_state;
