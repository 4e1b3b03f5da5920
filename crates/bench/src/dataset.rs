//! The bulk-load dataset: an NDJSON log of N events over M NPNs, in the
//! format `producer-projector import` reads, with a realistic mix of types
//! and some events delivered out of order.

use std::io::Write;
use std::path::Path;

use crate::events::{Rng, body};

/// A log starts here (2025-01-01) and advances 30 s an event.
const START_SECS: i64 = 1_735_689_600;
/// One event in twenty is stamped up to a day earlier than its neighbours.
const OUT_OF_ORDER_PERCENT: u64 = 5;

/// Writes `events` lines over `npns` producers to `path`; returns bytes written.
pub fn write_log(path: &Path, events: u64, npns: u64, seed: u64) -> anyhow::Result<u64> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut rng = Rng::new(seed);
    let mut written = 0u64;
    for n in 0..events {
        // Every NPN first appears as an activation-heavy mix; the first
        // `npns` events cover each NPN once so all of them exist.
        let npn = if n < npns {
            1_000_000 + n
        } else {
            1_000_000 + rng.below(npns)
        };
        let mut time = START_SECS + n as i64 * 30;
        if rng.below(100) < OUT_OF_ORDER_PERCENT {
            time -= rng.below(86_400) as i64;
        }
        let envelope = body(&mut rng, &format!("whe_{n}"), npn, time);
        let line = serde_json::json!({"webhook_id": format!("msg_{n}"), "timestamp": time, "body": envelope});
        let text = line.to_string();
        written += text.len() as u64 + 1;
        writeln!(out, "{text}")?;
    }
    out.flush()?;
    Ok(written)
}
