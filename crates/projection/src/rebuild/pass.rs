//! One pass of a rebuild, folded on every core: each fold thread takes
//! every page the pass reads and folds the entries of its own part of the
//! producers ([`fold_thread_of`]), into states of its own. A producer's
//! entries all go to one thread, in log order, so each state is folded
//! exactly as on one thread; the threads' states never overlap.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use event_store::{BodyRow, NpnShare};

use crate::event::FoldEvent;
use crate::fold::{fold_global, fold_owned};
use crate::projector::{ProjectorError, StatesByNpn};
use crate::state::GlobalState;

/// Pages a fold thread may have waiting: enough to smooth out uneven
/// pages, few enough that memory stays bounded.
const PAGES_WAITING: usize = 2;

/// A page of the log, shared by the fold threads.
pub(super) type Page = Arc<Vec<BodyRow>>;

/// How many threads fold a pass: one per core, at most four (the reads and
/// the writes need a core too).
pub(super) fn fold_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().clamp(1, 4))
}

/// Which of `threads` fold threads folds the entries naming `npn`: a hash
/// of the NPN's text, so that the split does not follow the passes' own
/// split (`npn % passes`). Entries naming none go to thread 0.
fn fold_thread_of(npn: Option<&str>, threads: usize) -> usize {
    let Some(npn) = npn else {
        return 0;
    };
    // FNV-1a, then splitmix64's finaliser: FNV alone leaves the parity of
    // the text's digits in every bit, so even NPNs would all go one way.
    let mut hash = npn.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    hash = (hash ^ (hash >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    hash = (hash ^ (hash >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    hash ^= hash >> 31;
    (hash % threads as u64) as usize
}

/// What one fold thread folded of a pass: the states of its part of the
/// pass's producers.
pub(super) struct PassFold {
    share: NpnShare,
    /// This thread's index among the pass's fold threads, and their number.
    thread: usize,
    threads: usize,
    /// The states, and each producer's last log position.
    pub(super) states: StatesByNpn,
    /// The global facts of this part's entries (those without an NPN are
    /// all in share 0, thread 0); the parts' and passes' facts are merged.
    pub(super) global: GlobalState,
    /// Entries of this part read.
    pub(super) entries_read: i64,
}

impl PassFold {
    /// An empty fold of thread `thread` of `threads`, with room for
    /// `producers` states.
    pub(super) fn new(share: NpnShare, thread: usize, threads: usize, producers: usize) -> Self {
        Self {
            share,
            thread,
            threads,
            states: HashMap::with_capacity(producers),
            global: GlobalState::default(),
            entries_read: 0,
        }
    }

    /// Folds this thread's entries of one page of the share's entries,
    /// oldest first. An entry this release cannot fold still counts towards
    /// its producer's last position, but a producer with no foldable entry
    /// gets no state.
    pub(super) fn fold_page(&mut self, page: &[BodyRow]) {
        for entry in page {
            debug_assert!(self.share.holds(entry.npn.as_deref()));
            if fold_thread_of(entry.npn.as_deref(), self.threads) != self.thread {
                continue;
            }
            self.entries_read += 1;
            let event = FoldEvent::from_body(entry.position, &entry.body, entry.received_at);
            if let Some(event) = &event {
                self.global = fold_global(std::mem::take(&mut self.global), event);
            }
            let Some(npn) = entry.npn.as_deref() else {
                continue;
            };
            let (state, last_position) = match self.states.get_mut(npn) {
                Some(slot) => slot,
                None => self.states.entry(npn.to_owned()).or_default(),
            };
            *last_position = (*last_position).max(entry.position);
            if let Some(event) = event {
                *state = fold_owned(std::mem::take(state), event);
            }
        }
    }
}

/// A fold thread other than the pass's own: it folds the pages it is sent
/// until the sender is dropped, hands its part back, and frees the part's
/// states itself once they are written ([`FoldHelper::release`]): memory
/// freed by the thread that allocated it goes back where it came from,
/// where freed on another thread (after this one ended) it stayed with the
/// process, and RSS grew with each rebuild.
pub(super) struct FoldHelper {
    pages: SyncSender<Page>,
    part: Receiver<PassFold>,
    written: SyncSender<StatesByNpn>,
    thread: JoinHandle<()>,
}

impl FoldHelper {
    /// Starts the thread that folds `part`.
    pub(super) fn start(part: PassFold) -> Result<Self, ProjectorError> {
        let (pages, received) = sync_channel(PAGES_WAITING);
        let (folded, part_back) = sync_channel(1);
        let (written, to_free) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("rebuild-fold".to_owned())
            .spawn(move || {
                let _ = folded.send(fold_received(part, received));
                // Dropped here, on this thread; nothing comes back when the
                // rebuild failed.
                let _ = to_free.recv();
            })
            .map_err(|error| ProjectorError::RebuildThread(error.to_string()))?;
        Ok(Self {
            pages,
            part: part_back,
            written,
            thread,
        })
    }

    /// Hands the thread a page; waits while it has [`PAGES_WAITING`]
    /// pages queued.
    pub(super) fn send(&self, page: Page) -> Result<(), ProjectorError> {
        self.pages.send(page).map_err(|_| stopped())
    }

    /// Waits for the thread to fold what it was sent; its part of the pass.
    /// The thread waits for the part's states to come back
    /// ([`FoldHelper::release`]).
    pub(super) fn finish(self) -> Result<(PassFold, FoldedPart), ProjectorError> {
        drop(self.pages);
        let part = self.part.recv().map_err(|_| stopped())?;
        Ok((
            part,
            FoldedPart {
                written: self.written,
                thread: self.thread,
            },
        ))
    }
}

/// A fold thread that has folded its part and waits to free its states.
pub(super) struct FoldedPart {
    written: SyncSender<StatesByNpn>,
    thread: JoinHandle<()>,
}

impl FoldedPart {
    /// Hands the states back to the thread that allocated them, to be
    /// freed there, and waits for it to end. Dropping a `FoldedPart`
    /// instead lets the thread end without them.
    pub(super) fn release(self, states: StatesByNpn) -> Result<(), ProjectorError> {
        self.written.send(states).map_err(|_| stopped())?;
        self.thread.join().map_err(|_| stopped())
    }
}

fn fold_received(mut part: PassFold, pages: Receiver<Page>) -> PassFold {
    for page in pages {
        part.fold_page(&page);
    }
    part
}

fn stopped() -> ProjectorError {
    ProjectorError::RebuildThread("a fold thread stopped (a panic)".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(position: i64, npn: Option<&str>, body: &str) -> BodyRow {
        BodyRow {
            position,
            npn: npn.map(str::to_owned),
            received_at: position,
            body: body.as_bytes().to_vec(),
        }
    }

    fn activation(id: &str, npn: &str) -> String {
        format!(
            r#"{{"id":"{id}","type":"producersync.npn.activated","timestamp":"2025-07-23T10:00:00Z","data":{{"npn":"{npn}"}}}}"#
        )
    }

    #[test]
    fn every_npn_goes_to_one_thread_and_the_threads_share_the_work() {
        let mut counts = [0usize; 3];
        for npn in 1_000_000..1_030_000u32 {
            let text = npn.to_string();
            let thread = fold_thread_of(Some(&text), 3);
            assert_eq!(thread, fold_thread_of(Some(&text), 3));
            counts[thread] += 1;
        }
        assert!(counts.iter().all(|&n| n > 9_000), "{counts:?}");
        assert_eq!(fold_thread_of(None, 3), 0);
        // Within one share of two passes (even NPNs), both threads get work.
        let even: Vec<usize> = (0..100u32)
            .map(|n| fold_thread_of(Some(&(2 * n + 1_000_000).to_string()), 2))
            .collect();
        assert!(even.contains(&0) && even.contains(&1));
    }

    #[test]
    fn the_threads_parts_together_are_the_whole_page() {
        let page: Vec<BodyRow> = (1..=40)
            .map(|n| {
                let npn = format!("{}", 1_000 + n % 7);
                row(n, Some(&npn), &activation(&format!("e{n}"), &npn))
            })
            .chain([row(41, None, "not json")])
            .collect();
        let share = NpnShare { index: 0, of: 1 };
        let mut whole = PassFold::new(share, 0, 1, 8);
        whole.fold_page(&page);
        let page: Page = Arc::new(page);
        let helper =
            FoldHelper::start(PassFold::new(share, 1, 2, 8)).expect("a fold thread starts");
        helper.send(page.clone()).expect("the thread takes a page");
        let mut own = PassFold::new(share, 0, 2, 8);
        own.fold_page(&page);
        let (other, folded) = helper.finish().expect("the thread finishes");
        assert_eq!(own.entries_read + other.entries_read, whole.entries_read);
        assert!(own.states.keys().all(|npn| !other.states.contains_key(npn)));
        let mut parts = own.states;
        parts.extend(other.states.clone());
        assert_eq!(parts, whole.states);
        folded
            .release(other.states)
            .expect("the thread frees its states and ends");
    }
}
