//! A closed-loop load driver: N workers, each sending its next request as
//! soon as the previous one is answered, for a fixed time.

use std::future::Future;
use std::time::{Duration, Instant};

/// What a run measured.
#[derive(Debug, Default)]
pub struct LoadResult {
    /// Requests answered as expected.
    pub ok: u64,
    /// Requests that failed or were answered otherwise.
    pub failed: u64,
    /// Wall time of the run.
    pub seconds: f64,
    /// Latency of every successful request, in microseconds, sorted.
    pub latencies_us: Vec<u32>,
    /// `(worker, sequence)` of every successful request.
    pub acked: Vec<(usize, u64)>,
}

impl LoadResult {
    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds.max(1e-9)
    }

    /// The latency at quantile `q` (0..=1), in milliseconds.
    pub fn latency_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return 0.0;
        }
        let index = ((self.latencies_us.len() - 1) as f64 * q).round() as usize;
        f64::from(self.latencies_us[index]) / 1000.0
    }
}

/// Runs `connections` workers for `duration`; `request(worker, sequence)`
/// returns whether the request succeeded.
pub async fn drive<F, Fut>(connections: usize, duration: Duration, request: F) -> LoadResult
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send,
{
    let started = Instant::now();
    let deadline = started + duration;
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut result = LoadResult::default();
                let mut sequence = 0u64;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    if request(worker, sequence).await {
                        result.ok += 1;
                        let micros = sent.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                        result.latencies_us.push(micros);
                        result.acked.push((worker, sequence));
                    } else {
                        result.failed += 1;
                    }
                    sequence += 1;
                }
                result
            })
        })
        .collect();
    let mut total = LoadResult::default();
    for worker in workers {
        if let Ok(result) = worker.await {
            total.ok += result.ok;
            total.failed += result.failed;
            total.latencies_us.extend(result.latencies_us);
            total.acked.extend(result.acked);
        }
    }
    total.seconds = started.elapsed().as_secs_f64();
    total.latencies_us.sort_unstable();
    total
}
