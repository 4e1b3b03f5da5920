//! The crash test: drive signed load, SIGKILL the server at random moments,
//! restart it, and check that nothing acknowledged was lost or counted
//! twice, that positions are gap-free, and that the projection equals a
//! fresh rebuild.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::bail;
use event_store::{Store, StoreOptions};
use webhook_verify::Secret;

use crate::audit::LogAudit;
use crate::events::Rng;
use crate::http1::Http1Clients;
use crate::ingest::{deliver, webhook_id};
use crate::load::{LoadResult, drive};
use crate::queries::rebuild;
use crate::server_process::{SECRET, ServerProcess, fresh_database};

/// What the crash test counted.
#[derive(Debug, Default)]
pub struct CrashReport {
    /// Deliveries answered 200 `accepted`.
    pub acknowledged: usize,
    /// Times the server was killed with SIGKILL.
    pub kills: usize,
    /// Acknowledged deliveries missing from the log.
    pub lost: usize,
    /// Webhook ids in the log more than once.
    pub duplicated: usize,
    /// Acknowledged deliveries re-sent after a restart and answered `duplicate`.
    pub retries_deduplicated: usize,
    /// Entries in the log.
    pub logged: usize,
    /// Whether positions run 1..=n without a gap.
    pub gap_free: bool,
    /// Whether the live projection equals a fresh rebuild.
    pub projection_matches: bool,
    /// With several replicas: whether a subscriber on each saw every
    /// position once, in order.
    pub subscribers_in_order: Option<bool>,
}

/// Runs `kills` rounds of load-then-SIGKILL, then the checks.
pub async fn run(
    binary: &Path,
    dir: &Path,
    kills: usize,
    connections: usize,
) -> anyhow::Result<CrashReport> {
    let url = fresh_database(dir, "crash.db");
    let secret = Arc::new(Secret::parse(SECRET)?);
    let mut rng = Rng::new(seed());
    let mut report = CrashReport::default();
    let mut acked: Vec<(usize, u64)> = Vec::new();
    for round in 0..kills {
        let server = ServerProcess::start(binary, &url, &dir.join("crash-server.log")).await?;
        report.retries_deduplicated += resend(&server, &secret, &acked, &mut rng).await?;
        let http = Arc::new(Http1Clients::new(&server.base_url, connections)?);
        let load_secret = secret.clone();
        let load = tokio::spawn(drive(
            connections,
            Duration::from_secs(3),
            move |worker, sequence| {
                let (http, secret) = (http.clone(), load_secret.clone());
                async move { deliver(&http, &secret, round * 1_000 + worker, sequence).await }
            },
        ));
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1_300))).await;
        server.stop().await;
        report.kills += 1;
        acked.extend(acked_in_round(round, &load.await?));
    }
    let server = ServerProcess::start(binary, &url, &dir.join("crash-server.log")).await?;
    check(&mut report, &url, &acked, &server).await?;
    server.stop().await;
    Ok(report)
}

/// The deliveries round `round` acknowledged, by the sender numbers it
/// gave its workers (`round * 1000 + worker`).
pub(crate) fn acked_in_round(
    round: usize,
    result: &LoadResult,
) -> impl Iterator<Item = (usize, u64)> + '_ {
    result
        .acked
        .iter()
        .map(move |(worker, sequence)| (round * 1_000 + worker, *sequence))
}

/// Fills in the checks of `report` once the crashes are over: the log at
/// `url` against the deliveries `acked`, and the live projection against
/// a fresh rebuild by `server`.
pub(crate) async fn check(
    report: &mut CrashReport,
    url: &str,
    acked: &[(usize, u64)],
    server: &ServerProcess,
) -> anyhow::Result<()> {
    report.acknowledged = acked.len();
    let audit = LogAudit::of(url).await?;
    report.logged = audit.logged;
    report.duplicated = audit.duplicated;
    report.gap_free = audit.gap_free;
    report.lost = audit.missing(acked);
    report.projection_matches = projection_matches_rebuild(server, url).await?;
    Ok(())
}

/// A seed that differs from run to run.
pub(crate) fn seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
}

/// Re-sends up to 20 acknowledged deliveries (with fresh timestamps, as the
/// sender's retry would) and counts those answered `duplicate`.
pub(crate) async fn resend(
    server: &ServerProcess,
    secret: &Secret,
    acked: &[(usize, u64)],
    rng: &mut Rng,
) -> anyhow::Result<usize> {
    let http = Http1Clients::new(&server.base_url, 1)?;
    let mut deduplicated = 0;
    for _ in 0..acked.len().min(20) {
        let (worker, sequence) = acked[rng.below(acked.len() as u64) as usize];
        if crate::ingest::deliver_expecting(&http, secret, worker, sequence, "duplicate").await {
            deduplicated += 1;
        } else {
            bail!(
                "a retry of acknowledged delivery {} was not answered duplicate",
                webhook_id(worker, sequence)
            );
        }
    }
    Ok(deduplicated)
}

pub(crate) async fn projection_matches_rebuild(
    server: &ServerProcess,
    url: &str,
) -> anyhow::Result<bool> {
    let store = Store::open(&StoreOptions::new(url.to_owned())).await?;
    // Every column but the generation and the last position folded,
    // which a rebuild takes from entries it cannot fold too.
    let rows = |rows: Vec<event_store::ProducerRow>| -> Vec<event_store::ProducerRow> {
        rows.into_iter()
            .map(|row| event_store::ProducerRow {
                generation: 0,
                last_position: 0,
                ..row
            })
            .collect()
    };
    let live = rows(
        store
            .current_producers_page(None, None, u64::MAX >> 1)
            .await?,
    );
    if rebuild(server).await.is_none() {
        bail!("rebuildProjection failed");
    }
    let rebuilt = rows(
        store
            .current_producers_page(None, None, u64::MAX >> 1)
            .await?,
    );
    Ok(live == rebuilt && !live.is_empty())
}
