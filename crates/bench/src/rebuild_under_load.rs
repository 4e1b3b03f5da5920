//! A rebuild while deliveries keep arriving: how long ingest pauses.
//!
//! Senders deliver without pause for two seconds, then through a
//! `rebuildProjection`, then for two seconds more. A rebuild folds what was
//! appended meanwhile in rounds of small transactions and holds the
//! writer only for the last tail and the swap; the longest time a delivery
//! waited for its answer during the rebuild is that pause as a sender
//! sees it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use webhook_verify::Secret;

use crate::http1::Http1Clients;
use crate::ingest::deliver;
use crate::queries;
use crate::server_process::{SECRET, ServerProcess};

/// How long deliveries run before the rebuild starts and after it ends.
const AROUND: Duration = Duration::from_secs(2);

/// One acknowledged delivery: when it was sent and answered.
type Timed = (Instant, Instant);

/// Runs the deliveries and the rebuild on `server`, and prints what the
/// senders saw while the rebuild ran.
pub async fn run(server: &ServerProcess, connections: usize) -> anyhow::Result<()> {
    let http = Arc::new(Http1Clients::new(&server.base_url, connections)?);
    let secret = Arc::new(Secret::parse(SECRET)?);
    let acked: Arc<Mutex<Vec<Timed>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    // Webhook ids of this run's own, apart from the ingest bench's and from
    // an earlier run's on a reused log (which would be answered duplicate).
    let first_worker = 1_000_000
        * (1 + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs() as usize % 100_000));
    let senders: Vec<_> = (0..connections)
        .map(|worker| {
            let (http, secret, acked) = (http.clone(), secret.clone(), acked.clone());
            let (stop, failed) = (stop.clone(), failed.clone());
            tokio::spawn(async move {
                let worker = first_worker + worker;
                let mut sequence = 0;
                while !stop.load(Ordering::Relaxed) {
                    let sent = Instant::now();
                    if deliver(&http, &secret, worker, sequence).await {
                        if let Ok(mut acked) = acked.lock() {
                            acked.push((sent, Instant::now()));
                        }
                    } else {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    sequence += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(AROUND).await;
    let rebuild_started = Instant::now();
    let rebuild = queries::rebuild(server)
        .await
        .context("rebuildProjection under load failed")?;
    let rebuild_ended = Instant::now();
    tokio::time::sleep(AROUND).await;
    stop.store(true, Ordering::Relaxed);
    for sender in senders {
        sender.await?;
    }
    let acked = acked.lock().map(|acked| acked.clone()).unwrap_or_default();
    let during: Vec<&Timed> = acked
        .iter()
        .filter(|(sent, answered)| *answered >= rebuild_started && *sent <= rebuild_ended)
        .collect();
    // The same load in the second before the rebuild (the senders' first
    // second, with its connections' setup, left out): what the disk and
    // the single writer cost without one.
    let load_started = rebuild_started
        .checked_sub(Duration::from_secs(1))
        .unwrap_or(rebuild_started);
    let longest_before = acked
        .iter()
        .filter(|(sent, answered)| *sent >= load_started && *answered < rebuild_started)
        .map(|(sent, answered)| answered.duration_since(*sent))
        .max()
        .unwrap_or_default();
    let mut waits: Vec<(Duration, Duration)> = during
        .iter()
        .map(|(sent, answered)| {
            let into_rebuild = sent.saturating_duration_since(rebuild_started);
            (answered.duration_since(*sent), into_rebuild)
        })
        .collect();
    waits.sort_unstable_by(|a, b| b.cmp(a));
    let longest_wait = waits.first().map(|(wait, _)| *wait).unwrap_or_default();
    let p99 = waits
        .get(waits.len() / 100)
        .map(|(wait, _)| *wait)
        .unwrap_or_default();
    let slowest: Vec<String> = waits
        .iter()
        .take(5)
        .map(|(wait, at)| {
            format!(
                "{:.1} ms sent {} ms in",
                wait.as_secs_f64() * 1000.0,
                at.as_millis()
            )
        })
        .collect();
    let rebuild_seconds = rebuild_ended.duration_since(rebuild_started).as_secs_f64();
    println!(
        "\n## rebuild under ingest ({connections} connections delivering throughout)\n\
         rebuildProjection: {:.0} ms ({} events folded), {} deliveries acknowledged while it ran ({:.0}/s), {} failed\n\
         longest pause of ingest during the rebuild (the slowest delivery's wait): {:.1} ms; p99 {:.1} ms\n\
         longest wait in the second before the rebuild (the same load, no rebuild): {:.1} ms\n\
         the five slowest: {}",
        rebuild_seconds * 1000.0,
        rebuild["eventsFolded"],
        during.len(),
        during.len() as f64 / rebuild_seconds.max(1e-9),
        failed.load(Ordering::Relaxed),
        longest_wait.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        longest_before.as_secs_f64() * 1000.0,
        slowest.join(", ")
    );
    Ok(())
}
