//! The rebuild bench: rounds of a plain scan of every raw body (the read
//! ceiling) and a `rebuildProjection`, on the same server and log.

use std::time::{Duration, Instant};

use anyhow::Context;
use event_store::Store;

use crate::queries;
use crate::server_process::ServerProcess;

/// How long the bench lets the server delete the generation a rebuild
/// replaced (about 0.4 s for 100,000 rows, then a checkpoint) before it
/// measures anything else.
const RETIRE_WAIT: Duration = Duration::from_secs(2);

/// One round: a scan while the server is idle, then a rebuild.
struct Round {
    scan_ms: f64,
    rebuild_ms: f64,
    events_per_second: f64,
}

/// Runs `rounds` rounds (at least one) and prints each, then the medians:
/// on a shared machine one sample can land on a slow moment (a scan 30%
/// slower than usual, a rebuild 50%), so every round is shown and the
/// median is what a round typically takes. The first round's rebuild is
/// the first in a fresh server process (a cold heap), the others reuse
/// its memory, as a long-running service does.
pub async fn run(server: &ServerProcess, store: &Store, rounds: usize) -> anyhow::Result<()> {
    let mut done = Vec::new();
    let mut shape = None;
    for _ in 0..rounds.max(1) {
        // The scan runs while the server is idle: right after a rebuild the
        // server deletes the replaced generation and checkpoints the WAL in
        // the background, and a scan run then took 360 ms instead of 245-290.
        let scan_started = Instant::now();
        let (rows, body_bytes) = store.scan_bodies(5_000).await?;
        let scan_ms = scan_started.elapsed().as_secs_f64() * 1000.0;
        let rebuild = queries::rebuild(server)
            .await
            .context("rebuildProjection failed")?;
        // The same background work would weigh on the next scan or query.
        tokio::time::sleep(RETIRE_WAIT).await;
        shape.get_or_insert((
            rows,
            body_bytes,
            rebuild["eventsFolded"].clone(),
            rebuild["producersWritten"].clone(),
        ));
        done.push(Round {
            scan_ms,
            rebuild_ms: rebuild["durationMs"].as_f64().unwrap_or(f64::NAN),
            events_per_second: rebuild["eventsPerSecond"].as_f64().unwrap_or(f64::NAN),
        });
    }
    let Some((rows, body_bytes, events, producers)) = shape else {
        return Ok(());
    };
    println!(
        "\n## rebuild ({events} events, {producers} producers; plain scan of every raw body: {rows} rows, {:.0} MiB)",
        body_bytes as f64 / 1_048_576.0
    );
    println!(
        "| round | plain scan | rebuildProjection | events/s | rebuild / scan |\n|---|---|---|---|---|"
    );
    for (n, round) in done.iter().enumerate() {
        let label = match n {
            0 => "1 (first rebuild in this server)".to_owned(),
            n => (n + 1).to_string(),
        };
        print_row(
            &label,
            round.scan_ms,
            round.rebuild_ms,
            round.events_per_second,
        );
    }
    let scan_ms = median(done.iter().map(|r| r.scan_ms));
    let rebuild_ms = median(done.iter().map(|r| r.rebuild_ms));
    let events_per_second = median(done.iter().map(|r| r.events_per_second));
    print_row("median", scan_ms, rebuild_ms, events_per_second);
    println!(
        "server peak RSS so far {:.1} MiB",
        server.peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}

fn print_row(label: &str, scan_ms: f64, rebuild_ms: f64, events_per_second: f64) {
    println!(
        "| {label} | {scan_ms:.0} ms | {rebuild_ms:.0} ms | {events_per_second:.0} | {:.1}x |",
        rebuild_ms / scan_ms
    );
}

/// The middle value (the mean of the two middle ones for an even count).
fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_two_middle_ones() {
        assert_eq!(median([3.0, 1.0, 2.0].into_iter()), 2.0);
        assert_eq!(median([4.0, 1.0, 3.0, 2.0].into_iter()), 2.5);
        assert!(median(std::iter::empty()).is_nan());
    }
}
