//! The threads that run the store's blocking work for async callers.
//!
//! Each thread keeps the connections it opens (see
//! [`super::connections`]), so the number of connections, and of page
//! caches, is bounded by the number of these threads. Work sent from
//! tokio's blocking pool instead opened connections on whichever of its
//! threads ran it, and that pool keeps idle threads around: the query
//! bench raised the server's peak RSS to 202-251 MiB that way.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// One piece of work for a thread of the pool.
type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of named threads taking work from one queue, first come
/// first served. The threads end when the last handle is dropped.
#[derive(Clone, Debug)]
pub(crate) struct Threads {
    jobs: mpsc::Sender<Job>,
}

impl Threads {
    /// Starts `count` threads named `name`.
    pub(crate) fn start(name: &str, count: usize) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..count.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        // A job that panics drops its answer (its caller
                        // sees the work interrupted); the thread goes on.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on one of the threads and waits for its result; `None`
    /// when it panicked or the threads have stopped. Work whose caller
    /// stopped waiting before a thread took it is dropped unstarted; work
    /// already started finishes.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (answer, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            // Work whose caller gave up while it waited is not started.
            if !answer.is_closed() {
                let _ = answer.send(work());
            }
        });
        self.jobs.send(job).ok()?;
        result.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::Threads;

    #[tokio::test]
    async fn work_runs_on_the_named_threads_and_a_panic_leaves_them_working() {
        let threads = Threads::start("test-db", 2).expect("threads");
        let name = threads
            .run(|| std::thread::current().name().map(str::to_owned))
            .await;
        assert_eq!(name, Some(Some("test-db".to_owned())));
        let panicked: Option<()> = threads.run(|| panic!("a bad job")).await;
        assert_eq!(panicked, None);
        for n in 0..4 {
            assert_eq!(threads.run(move || n * 2).await, Some(n * 2));
        }
    }

    #[tokio::test]
    async fn work_whose_caller_gave_up_while_it_waited_never_starts() {
        let threads = Threads::start("test-db", 1).expect("threads");
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let (busy_started, busy_is_running) = tokio::sync::oneshot::channel::<()>();
        let busy = tokio::spawn({
            let threads = threads.clone();
            async move {
                let work = move || {
                    let _ = busy_started.send(());
                    blocked.recv().is_ok()
                };
                threads.run(work).await
            }
        });
        busy_is_running.await.expect("the busy work started");
        let started = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let waiting = threads.run({
            let started = started.clone();
            move || started.store(true, std::sync::atomic::Ordering::SeqCst)
        });
        // The caller polls once (the work is queued behind the busy
        // thread), then gives up.
        let gave_up = tokio::time::timeout(std::time::Duration::from_millis(20), waiting).await;
        assert!(gave_up.is_err());
        release.send(()).expect("released");
        assert_eq!(busy.await.expect("joined"), Some(true));
        // Whatever runs next runs after the abandoned work's turn.
        assert_eq!(threads.run(|| 1).await, Some(1));
        assert!(!started.load(std::sync::atomic::Ordering::SeqCst));
    }
}
