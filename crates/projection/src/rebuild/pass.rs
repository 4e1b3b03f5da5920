//! Collecting one pass on every core: each collecting thread reads its own
//! ranges of the log on its own connection, interprets every entry of them
//! and sorts what it collected. The threads other than the rebuild's own
//! are [`CollectHelper`]s.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use crate::projector::ProjectorError;
use crate::rebuild::collect::CollectedPart;

/// How many threads collect a pass: one per core, at most four.
pub(super) fn collect_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().clamp(1, 4))
}

/// A collecting thread other than the rebuild's own: it collects by
/// reading its own ranges of the log, sorts its part, hands it over, and
/// frees it itself once the pass is written
/// ([`CollectedPartHome::release`]): memory freed by the thread that
/// allocated it goes back where it came from, where freed on another
/// thread (after this one ended) it stayed with the process, and RSS grew
/// with each rebuild.
pub(super) struct CollectHelper {
    part: Receiver<Result<CollectedPart, ProjectorError>>,
    home: CollectedPartHome,
}

impl CollectHelper {
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
            part: part_back,
            home: CollectedPartHome { written, thread },
        })
    }

    /// Waits for the thread to collect what it read and sort it; its part
    /// of the pass, and where to give the part back.
    pub(super) fn finish(self) -> Result<(CollectedPart, CollectedPartHome), ProjectorError> {
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

fn stopped() -> ProjectorError {
    ProjectorError::RebuildThread("a collecting thread stopped (a panic)".to_owned())
}

#[cfg(test)]
mod tests {
    use event_store::{RebuildRow, RowContent};

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
    fn a_helper_given_work_sorts_what_it_collected_or_reports_its_failure() {
        let page = vec![entry(1, "9"), entry(2, "3"), entry(3, "9")];
        let helper =
            CollectHelper::start_with(CollectedPart::new(4), move |part| part.collect_page(&page))
                .expect("starts");
        let (part, home) = helper.finish().expect("finishes");
        let positions: Vec<i64> = part.records().iter().map(|r| r.position).collect();
        assert_eq!(positions, [2, 1, 3], "sorted by NPN, then position");
        home.release(part).expect("ends");

        let failing =
            CollectHelper::start_with(CollectedPart::new(1), |_| Err(ProjectorError::Superseded))
                .expect("starts");
        assert!(matches!(
            failing.finish().err(),
            Some(ProjectorError::Superseded)
        ));
    }

    #[test]
    fn a_helper_that_cannot_collect_reports_why() {
        let mut bad = entry(1, "42");
        bad.npn = Some("x".to_owned());
        let helper =
            CollectHelper::start_with(CollectedPart::new(1), move |part| part.collect_page(&[bad]))
                .expect("starts");
        let error = helper.finish().err().expect("the failure comes back");
        assert!(error.to_string().contains("\"x\""), "{error}");
    }
}
