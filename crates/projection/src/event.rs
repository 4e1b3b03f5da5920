//! What the fold sees of a log entry.

use agentsync_events::{EventKind, interpret};

use event_store::{Appended, LogEntry};

use crate::state::Stamp;

/// One understood event, reduced to what the fold needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoldEvent {
    /// Its log position: where a sub-record update's fields stay, for a
    /// state to refer to. Positions reflect arrival order, so the fold
    /// never compares them; only the event's own stamp decides what wins.
    pub position: i64,
    /// The producer it concerns, if any.
    pub npn: Option<String>,
    /// When it counts as having occurred, and its tie-breaker.
    pub stamp: Stamp,
    /// What it says.
    pub kind: EventKind,
}

impl FoldEvent {
    /// Re-reads a log entry's raw body with this release's interpreter, as
    /// a rebuild does. `None` when this release cannot fold it (it stays in
    /// the log, flagged).
    pub fn from_entry(entry: &LogEntry) -> Option<Self> {
        Self::from_body(entry.position, &entry.body, entry.received_at)
    }

    /// Interprets the raw body at `position`, received at `received_at` (µs).
    pub fn from_body(position: i64, body: &[u8], received_at: i64) -> Option<Self> {
        let interpretation = interpret(body);
        Some(Self {
            position,
            npn: interpretation.npn,
            stamp: Stamp {
                time: interpretation.occurred_at.unwrap_or(received_at),
                event_id: interpretation.event_id.unwrap_or_default(),
            },
            kind: interpretation.outcome.ok()?,
        })
    }

    /// The event of a just-appended entry, already understood by the ingest
    /// edge, so the body is not parsed a second time.
    pub fn from_appended(appended: &Appended) -> Option<Self> {
        let kind = appended.kind.clone()?;
        let entry = &appended.entry;
        Some(Self {
            position: entry.position,
            npn: entry.npn.clone(),
            stamp: Stamp {
                time: entry.effective_time(),
                event_id: entry.event_id.clone().unwrap_or_default(),
            },
            kind,
        })
    }
}
