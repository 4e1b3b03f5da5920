//! Ingest: signed, unique, valid deliveries over loopback at N connections,
//! beside the `/healthz` ceiling with the same client and concurrency.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::bail;
use webhook_verify::{Secret, sign};

use crate::audit::LogAudit;
use crate::events::{Rng, body};
use crate::http1::Http1Clients;
use crate::load::{LoadResult, drive};
use crate::server_process::{SECRET, ServerProcess, fresh_database};

/// What the ingest bench measured.
pub struct IngestReport {
    /// Deliveries.
    pub ingest: LoadResult,
    /// `/healthz`.
    pub ceiling: LoadResult,
    /// The server's peak RSS, MiB.
    pub peak_rss_mib: Option<f64>,
    /// Acknowledged deliveries found in the log exactly once.
    pub verified: u64,
}

/// Runs the healthz ceiling, then ingest, on a fresh database in `dir`.
pub async fn run(
    server_binary: &Path,
    dir: &Path,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<IngestReport> {
    let url = fresh_database(dir, "ingest.db");
    let server = ServerProcess::start(server_binary, &url, &dir.join("ingest-server.log")).await?;
    let http = Arc::new(Http1Clients::new(&server.base_url, connections)?);

    let ceiling = {
        let http = http.clone();
        drive(connections, duration, move |worker, _| {
            let http = http.clone();
            async move {
                http.get(worker, "/healthz")
                    .await
                    .is_some_and(|answer| answer.success)
            }
        })
        .await
    };

    let secret = Arc::new(Secret::parse(SECRET)?);
    let ingest = drive(connections, duration, move |worker, sequence| {
        let (http, secret) = (http.clone(), secret.clone());
        async move { deliver(&http, &secret, worker, sequence).await }
    })
    .await;
    let peak_rss_mib = server.peak_rss_mib();
    server.stop().await;

    let verified = verify_exactly_once(&url, &ingest).await?;
    Ok(IngestReport {
        ingest,
        ceiling,
        peak_rss_mib,
        verified,
    })
}

/// The webhook id of a worker's n-th delivery.
pub fn webhook_id(worker: usize, sequence: u64) -> String {
    format!("msg_bench_{worker}_{sequence}")
}

/// Delivers a worker's n-th event; true when it was answered `accepted`.
pub async fn deliver(http: &Http1Clients, secret: &Secret, worker: usize, sequence: u64) -> bool {
    deliver_expecting(http, secret, worker, sequence, "accepted").await
}

/// Delivers a worker's n-th event — the same body every time, signed with
/// a fresh timestamp as a sender's retry is — and says whether the answer's
/// status is `expected`.
pub async fn deliver_expecting(
    http: &Http1Clients,
    secret: &Secret,
    worker: usize,
    sequence: u64,
    expected: &str,
) -> bool {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let id = webhook_id(worker, sequence);
    let mut rng = Rng::new((worker as u64) << 32 | sequence);
    let npn = 1_000_000 + rng.below(100_000);
    // The event's own time depends only on its identity, so a retry
    // carries the same body.
    let occurred = 1_735_689_600 + (sequence as i64 % 86_400);
    let payload = body(
        &mut rng,
        &format!("whe_bench_{worker}_{sequence}"),
        npn,
        occurred,
    );
    let signature = sign(secret, &id, now, payload.as_bytes());
    let timestamp = now.to_string();
    let headers = [
        ("webhook-id", id.as_str()),
        ("webhook-timestamp", timestamp.as_str()),
        ("webhook-signature", signature.as_str()),
    ];
    let wanted = format!("\"{expected}\"");
    http.post_json(worker, "/webhooks/agentsync", &headers, payload)
        .await
        .is_some_and(|answer| answer.success && answer.text.contains(&wanted))
}

/// Every acknowledged webhook id must be in the log exactly once, at
/// gap-free positions.
pub(crate) async fn verify_exactly_once(url: &str, ingest: &LoadResult) -> anyhow::Result<u64> {
    let audit = LogAudit::of(url).await?;
    if audit.duplicated > 0 || !audit.gap_free {
        bail!(
            "the log has {} repeated webhook ids; gap-free = {}",
            audit.duplicated,
            audit.gap_free
        );
    }
    let missing = audit.missing(&ingest.acked);
    if missing > 0 {
        bail!("{missing} acknowledged deliveries are missing from the log");
    }
    Ok(ingest.acked.len() as u64)
}
