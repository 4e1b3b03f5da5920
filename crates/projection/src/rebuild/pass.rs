//! Collecting one pass on every core. On a SQLite file each collecting
//! thread reads its own ranges of the log and interprets every entry of
//! them; otherwise each takes every page one reader reads and interprets
//! its own share of the page's entries (every `threads`-th one). Each then
//! sorts what it collected. The threads other than the rebuild's own are
//! [`CollectHelper`]s.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use event_store::RebuildRow;

use crate::projector::ProjectorError;
use crate::rebuild::collect::CollectedPart;

/// Pages a collecting thread may have waiting: enough to smooth out
/// uneven pages, few enough that memory stays bounded.
const PAGES_WAITING: usize = 2;

/// A page of the log, shared by the collecting threads.
pub(super) type Page = Arc<Vec<RebuildRow>>;

/// How many threads collect a pass: one per core, at most four.
pub(super) fn collect_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().clamp(1, 4))
}

/// A collecting thread other than the rebuild's own: it collects, either
/// from the pages it is sent until the sender is dropped
/// ([`CollectHelper::start`]) or by reading its own ranges of the log
/// ([`CollectHelper::start_with`]), sorts its part, hands it over, and
/// frees it itself once the pass is written
/// ([`CollectedPartHome::release`]): memory freed by the thread that
/// allocated it goes back where it came from, where freed on another
/// thread (after this one ended) it stayed with the process, and RSS grew
/// with each rebuild.
pub(super) struct CollectHelper {
    /// Where pages go, for a helper that is sent them.
    pages: Option<SyncSender<Page>>,
    part: Receiver<Result<CollectedPart, ProjectorError>>,
    home: CollectedPartHome,
}

impl CollectHelper {
    /// Starts a thread that collects `part` from the pages it is sent.
    pub(super) fn start(part: CollectedPart) -> Result<Self, ProjectorError> {
        let (pages, received) = sync_channel(PAGES_WAITING);
        let mut helper = Self::start_with(part, move |part| collect_received(part, &received))?;
        helper.pages = Some(pages);
        Ok(helper)
    }

    /// Starts a thread that collects `part` with `work`.
    pub(super) fn start_with(
        mut part: CollectedPart,
        work: impl FnOnce(&mut CollectedPart) -> Result<(), ProjectorError> + Send + 'static,
    ) -> Result<Self, ProjectorError> {
        let (collected, part_back) = sync_channel(1);
        let (written, to_free) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("rebuild-collect".to_owned())
            .spawn(move || {
                let sorted = work(&mut part).map(|()| {
                    part.sort();
                    part
                });
                let _ = collected.send(sorted);
                // Freed here, on this thread; nothing comes back when the
                // rebuild failed.
                let _ = to_free.recv();
            })
            .map_err(|error| ProjectorError::RebuildThread(error.to_string()))?;
        Ok(Self {
            pages: None,
            part: part_back,
            home: CollectedPartHome { written, thread },
        })
    }

    /// Hands the thread a page; waits while it has [`PAGES_WAITING`]
    /// pages queued.
    pub(super) fn send(&self, page: Page) -> Result<(), ProjectorError> {
        let pages = self.pages.as_ref().ok_or_else(stopped)?;
        pages.send(page).map_err(|_| stopped())
    }

    /// Waits for the thread to collect what it was sent (or what it read)
    /// and sort it; its part of the pass, and where to give the part back.
    pub(super) fn finish(mut self) -> Result<(CollectedPart, CollectedPartHome), ProjectorError> {
        drop(self.pages.take());
        let part = self.part.recv().map_err(|_| stopped())??;
        Ok((part, self.home))
    }
}

/// The thread a collected part was allocated on, waiting to free it.
pub(super) struct CollectedPartHome {
    written: SyncSender<CollectedPart>,
    thread: JoinHandle<()>,
}

impl CollectedPartHome {
    /// Hands the part back to its thread, to be freed there, and waits for
    /// the thread to end. Dropping a home instead lets the thread end
    /// without it.
    pub(super) fn release(self, part: CollectedPart) -> Result<(), ProjectorError> {
        self.written.send(part).map_err(|_| stopped())?;
        self.thread.join().map_err(|_| stopped())
    }
}

fn collect_received(
    part: &mut CollectedPart,
    pages: &Receiver<Page>,
) -> Result<(), ProjectorError> {
    let mut failed = None;
    for page in pages {
        // After a failure, keep taking pages so the sender is not blocked.
        if failed.is_none()
            && let Err(error) = part.collect_page(&page)
        {
            failed = Some(error);
        }
    }
    failed.map_or(Ok(()), Err)
}

fn stopped() -> ProjectorError {
    ProjectorError::RebuildThread("a collecting thread stopped (a panic)".to_owned())
}

#[cfg(test)]
mod tests {
    use event_store::RowContent;

    use super::*;

    fn entry(position: i64, npn: &str) -> RebuildRow {
        let body = format!(
            r#"{{"id":"e{position}","type":"producersync.npn.activated","timestamp":"2025-07-23T10:00:00Z","data":{{"npn":"{npn}"}}}}"#
        );
        RebuildRow {
            position,
            npn: Some(npn.to_owned()),
            received_at: position,
            content: RowContent::Body(body.into_bytes()),
        }
    }

    #[test]
    fn a_helper_collects_its_share_of_every_page_and_ends_when_given_its_part_back() {
        let pages: Vec<Page> = (0..3)
            .map(|page| Arc::new((1..=5).map(|n| entry(page * 5 + n, "42")).collect()))
            .collect();
        let helper = CollectHelper::start(CollectedPart::new(1, 2, 8)).expect("starts");
        let mut own = CollectedPart::new(0, 2, 8);
        for page in &pages {
            helper.send(page.clone()).expect("takes a page");
            own.collect_page(page).expect("collects");
        }
        let (part, home) = helper.finish().expect("finishes");
        // Pages of five: the helper takes the second and fourth of each.
        assert_eq!((own.entries_read, part.entries_read), (9, 6));
        let positions: Vec<i64> = part.records().iter().map(|r| r.position).collect();
        assert_eq!(positions, [2, 4, 7, 9, 12, 14]);
        home.release(part)
            .expect("the thread frees its part and ends");
    }

    #[test]
    fn a_helper_given_work_sorts_what_it_collected_or_reports_its_failure() {
        let page = vec![entry(1, "9"), entry(2, "3"), entry(3, "9")];
        let helper = CollectHelper::start_with(CollectedPart::new(0, 1, 4), move |part| {
            part.collect_page(&page)
        })
        .expect("starts");
        let (part, home) = helper.finish().expect("finishes");
        let positions: Vec<i64> = part.records().iter().map(|r| r.position).collect();
        assert_eq!(positions, [2, 1, 3], "sorted by NPN, then position");
        home.release(part).expect("ends");

        let failing = CollectHelper::start_with(CollectedPart::new(0, 1, 1), |_| {
            Err(ProjectorError::Superseded)
        })
        .expect("starts");
        assert!(matches!(
            failing.finish().err(),
            Some(ProjectorError::Superseded)
        ));
        let no_pages = CollectHelper::start_with(CollectedPart::new(0, 1, 1), |_| Ok(()));
        let sent = no_pages.expect("starts").send(Arc::new(Vec::new()));
        assert!(sent.is_err(), "a helper given work takes no pages");
    }

    #[test]
    fn a_helper_that_cannot_collect_reports_why() {
        let mut bad = entry(1, "42");
        bad.npn = Some("x".to_owned());
        let helper = CollectHelper::start(CollectedPart::new(0, 1, 1)).expect("starts");
        helper.send(Arc::new(vec![bad])).expect("takes a page");
        helper
            .send(Arc::new(vec![entry(2, "42")]))
            .expect("still takes pages after a failure");
        let error = helper.finish().err().expect("the failure comes back");
        assert!(error.to_string().contains("\"x\""), "{error}");
    }
}
