//! Ingest: signed, unique, valid deliveries over loopback at N connections,
//! beside the `/healthz` ceiling with the same client and concurrency.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::bail;
use event_store::{LogFilter, Store, StoreOptions};
use webhook_verify::{Secret, sign};

use crate::events::{Rng, body};
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

fn client(connections: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .unwrap_or_default()
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
    let http = client(connections);

    let health_url = Arc::new(format!("{}/healthz", server.base_url));
    let ceiling = {
        let (http, url) = (http.clone(), health_url.clone());
        drive(connections, duration, move |_, _| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                http.get(url.as_str())
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await
    };

    let secret = Arc::new(Secret::parse(SECRET)?);
    let webhook_url = Arc::new(format!("{}/webhooks/agentsync", server.base_url));
    let ingest = drive(connections, duration, move |worker, sequence| {
        let (http, url, secret) = (http.clone(), webhook_url.clone(), secret.clone());
        async move { deliver(&http, &url, &secret, worker, sequence).await }
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
pub async fn deliver(
    http: &reqwest::Client,
    url: &str,
    secret: &Secret,
    worker: usize,
    sequence: u64,
) -> bool {
    deliver_expecting(http, url, secret, worker, sequence, "accepted").await
}

/// Delivers a worker's n-th event — the same body every time, signed with
/// a fresh timestamp as a sender's retry is — and says whether the answer's
/// status is `expected`.
pub async fn deliver_expecting(
    http: &reqwest::Client,
    url: &str,
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
    let answer = http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", signature)
        .body(payload)
        .send()
        .await;
    let wanted = format!("\"{expected}\"");
    match answer {
        Ok(response) if response.status().is_success() => response
            .text()
            .await
            .is_ok_and(|text| text.contains(&wanted)),
        _ => false,
    }
}

/// Every acknowledged webhook id must be in the log exactly once, and the
/// log must hold nothing else.
async fn verify_exactly_once(url: &str, ingest: &LoadResult) -> anyhow::Result<u64> {
    let store = Store::open(&StoreOptions::new(url.to_owned())).await?;
    let mut logged: HashSet<String> = HashSet::new();
    let mut after = 0;
    loop {
        let page = store
            .list_entries(&LogFilter::default(), after, 50_000)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for entry in page {
            if !logged.insert(entry.webhook_id) {
                bail!("a webhook id is in the log twice");
            }
        }
    }
    let mut found = 0;
    for (worker, sequence) in &ingest.acked {
        if !logged.contains(&webhook_id(*worker, *sequence)) {
            bail!(
                "acknowledged delivery {} is missing from the log",
                webhook_id(*worker, *sequence)
            );
        }
        found += 1;
    }
    Ok(found)
}
