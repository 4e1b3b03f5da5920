//! Live changes for subscribers, read from the log by position.
//!
//! The log is the truth: one task per process, the [`FeedFollower`], reads
//! the entries committed after the last one it read, in position order, and
//! publishes them and the states of the producers they changed. It is woken
//! by this process's commits ([`ChangeFeed::wake`]) and by the store when
//! another process on the same database commits
//! ([`Store::watch_appends`]: PostgreSQL's `LISTEN`/`NOTIFY`), and reads
//! every [`POLL_EVERY`] as well, so a lost wake-up delays a change and never
//! loses it. A subscriber therefore sees every change committed by any
//! replica, once, in position order, and never one that could still roll
//! back.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use event_store::{AppendWatch, LogEntry, LogFilter, Store, StoreError};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{Notify, broadcast};

use crate::state::ProducerState;
use crate::stored::decode_state;

/// How many changes a slow subscriber may fall behind before it skips
/// (producer changes) or reads what it missed from the log (entries).
const FEED_CAPACITY: usize = 1_024;

/// How many entries one read of the log takes.
const PAGE: u64 = 256;

/// How often the follower reads the log without being woken.
pub const POLL_EVERY: Duration = Duration::from_secs(1);

/// A producer's new state after an event changed it.
#[derive(Debug, Clone)]
pub struct ProducerChange {
    /// The NPN.
    pub npn: String,
    /// Its state after the commit.
    pub state: ProducerState,
}

/// The broadcast channels behind GraphQL subscriptions, and the wake-up of
/// the task that feeds them.
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    changes: broadcast::Sender<ProducerChange>,
    appended: broadcast::Sender<LogEntry>,
    wake: Arc<Notify>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        Self {
            changes: broadcast::channel(FEED_CAPACITY).0,
            appended: broadcast::channel(FEED_CAPACITY).0,
            wake: Arc::new(Notify::new()),
        }
    }
}

impl ChangeFeed {
    /// Producer states as they change.
    pub fn subscribe_changes(&self) -> broadcast::Receiver<ProducerChange> {
        self.changes.subscribe()
    }

    /// Log entries after `after` (a position; `None`: from now on), in
    /// position order, each once: what the feed missed of them (entries
    /// before it subscribed, or while it lagged) is read from the log.
    pub async fn entries_after(
        &self,
        store: Store,
        after: Option<i64>,
    ) -> Result<impl Stream<Item = LogEntry> + use<>, StoreError> {
        // Subscribed first, so nothing published after the head is read
        // below can be missed.
        let receiver = self.appended.subscribe();
        let (last, behind) = match after {
            Some(after) => (after, true),
            None => (store.log_head().await?, false),
        };
        let cursor = EntryCursor {
            receiver,
            store,
            last,
            behind,
            backlog: VecDeque::new(),
        };
        Ok(futures::stream::unfold(cursor, EntryCursor::next))
    }

    /// Tells the follower that this process committed appends.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts the task that feeds the subscribers from `store`'s log, from
    /// its head on; it runs until the returned follower is dropped.
    pub async fn follow(&self, store: Store) -> Result<FeedFollower, StoreError> {
        let watch = store.watch_appends(Arc::clone(&self.wake))?;
        let last = store.log_head().await?;
        let task = tokio::spawn(follow(self.clone(), store, last));
        Ok(FeedFollower {
            task,
            _watch: watch,
        })
    }

    fn has_subscribers(&self) -> bool {
        self.changes.receiver_count() > 0 || self.appended.receiver_count() > 0
    }
}

/// The running follower of a [`ChangeFeed`]; dropping it stops it.
#[derive(Debug)]
pub struct FeedFollower {
    task: tokio::task::JoinHandle<()>,
    _watch: AppendWatch,
}

impl Drop for FeedFollower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads the log after `last` each time it is woken (or every
/// [`POLL_EVERY`]) and publishes what it reads.
async fn follow(feed: ChangeFeed, store: Store, mut last: i64) {
    loop {
        tokio::select! {
            () = feed.wake.notified() => {}
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
        if let Err(error) = catch_up(&feed, &store, &mut last).await {
            tracing::warn!(error = %error, "the change feed could not read the log; it retries");
        }
    }
}

/// Publishes every entry after `*last`, a page at a time; without
/// subscribers it only moves `*last` to the head.
async fn catch_up(feed: &ChangeFeed, store: &Store, last: &mut i64) -> Result<(), StoreError> {
    loop {
        if !feed.has_subscribers() {
            *last = store.log_head().await?;
            return Ok(());
        }
        let entries = store
            .list_entries(&LogFilter::default(), *last, PAGE)
            .await?;
        let Some(head) = entries.last().map(|entry| entry.position) else {
            return Ok(());
        };
        publish_changes(feed, store, &entries, head).await?;
        if feed.appended.receiver_count() > 0 {
            for entry in entries {
                let _ = feed.appended.send(entry);
            }
        }
        *last = head;
    }
}

/// Publishes the state of each producer `entries` name, as of `head`, the
/// last of them, in the order of their last entry. A producer whose state
/// already holds a later entry is left for the read that takes that entry,
/// so each state is published once and states come in position order.
async fn publish_changes(
    feed: &ChangeFeed,
    store: &Store,
    entries: &[LogEntry],
    head: i64,
) -> Result<(), StoreError> {
    if feed.changes.receiver_count() == 0 {
        return Ok(());
    }
    let mut latest: HashMap<&str, i64> = HashMap::new();
    for entry in entries {
        if let Some(npn) = &entry.npn {
            latest.insert(npn, entry.position);
        }
    }
    let mut npns: Vec<(&str, i64)> = latest.into_iter().collect();
    npns.sort_by_key(|(_, position)| *position);
    for (npn, _) in npns {
        let Some(row) = store.current_producer(npn).await? else {
            continue;
        };
        if row.last_position > head {
            continue;
        }
        match decode_state(&row) {
            Ok(state) => {
                let _ = feed.changes.send(ProducerChange {
                    npn: npn.to_owned(),
                    state,
                });
            }
            Err(error) => tracing::warn!(npn, error = %error, "a stored state did not decode"),
        }
    }
    Ok(())
}

/// A subscriber's place in the log: entries come from the feed while it
/// keeps up, and from the log itself where it does not.
struct EntryCursor {
    receiver: broadcast::Receiver<LogEntry>,
    store: Store,
    /// The last position handed out.
    last: i64,
    /// Whether the log may hold entries after `last` the feed will not
    /// bring (before the subscription, or skipped while it lagged).
    behind: bool,
    backlog: VecDeque<LogEntry>,
}

impl EntryCursor {
    async fn next(mut self) -> Option<(LogEntry, Self)> {
        loop {
            if let Some(entry) = self.backlog.pop_front() {
                self.last = entry.position;
                return Some((entry, self));
            }
            if self.behind {
                self.read_from_log().await;
                continue;
            }
            match self.receiver.recv().await {
                Ok(entry) if entry.position <= self.last => {}
                Ok(entry) if entry.position == self.last + 1 => {
                    self.last = entry.position;
                    return Some((entry, self));
                }
                // A gap: what lies between is in the log (and so is this
                // entry, read again there).
                Ok(_) | Err(RecvError::Lagged(_)) => self.behind = true,
                Err(RecvError::Closed) => return None,
            }
        }
    }

    /// Reads a page after `last` from the log; a page short of full means
    /// the feed brings the rest.
    async fn read_from_log(&mut self) {
        match self
            .store
            .list_entries(&LogFilter::default(), self.last, PAGE)
            .await
        {
            Ok(entries) => {
                self.behind = entries.len() as u64 == PAGE;
                self.backlog.extend(entries);
            }
            Err(error) => {
                tracing::warn!(error = %error, "a subscriber could not read the log; it retries");
                tokio::time::sleep(POLL_EVERY).await;
            }
        }
    }
}
