//! Live changes for subscribers, published only after commit.

use std::sync::Mutex;

use event_store::LogEntry;
use tokio::sync::broadcast;

use crate::state::ProducerState;

/// How many changes a slow subscriber may fall behind before it skips.
const FEED_CAPACITY: usize = 1_024;

/// A producer's new state after an event changed it.
#[derive(Debug, Clone)]
pub struct ProducerChange {
    /// The NPN.
    pub npn: String,
    /// Its state after the commit.
    pub state: ProducerState,
}

/// The broadcast channels behind GraphQL subscriptions.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    changes: broadcast::Sender<ProducerChange>,
    appended: broadcast::Sender<LogEntry>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self {
            changes: broadcast::channel(FEED_CAPACITY).0,
            appended: broadcast::channel(FEED_CAPACITY).0,
        }
    }
}

impl ChangeFeed {
    /// Producer states as they change.
    pub fn subscribe_changes(&self) -> broadcast::Receiver<ProducerChange> {
        self.changes.subscribe()
    }

    /// Log entries as they are committed.
    pub fn subscribe_appended(&self) -> broadcast::Receiver<LogEntry> {
        self.appended.subscribe()
    }

    pub(crate) fn wants_changes(&self) -> bool {
        self.changes.receiver_count() > 0
    }

    pub(crate) fn publish(&self, changes: Vec<ProducerChange>, entries: &[event_store::Appended]) {
        for change in changes {
            let _ = self.changes.send(change);
        }
        if self.appended.receiver_count() > 0 {
            for appended in entries {
                let _ = self.appended.send(appended.entry.clone());
            }
        }
    }
}

/// Changes computed inside the append transaction, held until it commits.
#[derive(Debug, Default)]
pub(crate) struct PendingChanges(Mutex<Vec<ProducerChange>>);

impl PendingChanges {
    pub(crate) fn replace(&self, changes: Vec<ProducerChange>) {
        if let Ok(mut pending) = self.0.lock() {
            *pending = changes;
        }
    }

    pub(crate) fn take(&self) -> Vec<ProducerChange> {
        self.0
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default()
    }
}
