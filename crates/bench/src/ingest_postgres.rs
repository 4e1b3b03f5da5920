//! The ingest bench on PostgreSQL: the same signed load over one replica,
//! then two sharing one database (the load spread over them), and the
//! ceiling of the same appends without HTTP: batches appended through the
//! store straight into the database, serialised by its write lock as
//! every replica's are.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use event_store::{NewEntry, Store, StoreOptions};
use webhook_verify::Secret;

use crate::events::{Rng, body};
use crate::http1::Http1Clients;
use crate::ingest::{deliver, verify_exactly_once};
use crate::load::{LoadResult, drive};
use crate::server_process::{SECRET, ServerProcess};

/// Deliveries per batch in the direct-append ceiling (the writer's batches
/// under the HTTP load are of this order at 64 connections).
const DIRECT_BATCH: usize = 64;

/// What the PostgreSQL ingest bench measured.
pub struct PostgresIngestReport {
    /// The load over one replica, then over two.
    pub by_replicas: Vec<(usize, LoadResult)>,
    /// Direct appends: rows per second.
    pub direct_rows_per_second: f64,
}

/// Runs the bench on a throwaway cluster of its own.
pub async fn run(
    binary: &Path,
    dir: &Path,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<PostgresIngestReport> {
    let cluster = test_postgres::Cluster::start();
    let secret = Arc::new(Secret::parse(SECRET)?);
    let mut by_replicas = Vec::new();
    for replicas in [1, 2] {
        let url = cluster.create_database(&format!("ingest_{replicas}"));
        let mut servers = Vec::new();
        for replica in 0..replicas {
            let log = dir.join(format!("ingest-pg-{replicas}-{replica}.log"));
            servers.push(ServerProcess::start(binary, &url, &log).await?);
        }
        let clients = servers
            .iter()
            .map(|server| Http1Clients::new(&server.base_url, connections).map(Arc::new))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let load_secret = secret.clone();
        let result = drive(connections, duration, move |worker, sequence| {
            let (clients, secret) = (clients.clone(), load_secret.clone());
            async move { deliver(&clients[worker % clients.len()], &secret, worker, sequence).await }
        })
        .await;
        for server in servers {
            server.stop().await;
        }
        verify_exactly_once(&url, &result).await?;
        by_replicas.push((replicas, result));
    }
    let direct_rows_per_second =
        direct_appends(&cluster.create_database("ingest_direct"), duration).await?;
    Ok(PostgresIngestReport {
        by_replicas,
        direct_rows_per_second,
    })
}

/// Appends batches of [`DIRECT_BATCH`] new deliveries for `duration`
/// through the store, without HTTP and without the fold; rows per second.
async fn direct_appends(url: &str, duration: Duration) -> anyhow::Result<f64> {
    let store = Store::open(&StoreOptions::new(url.to_owned())).await?;
    let mut rng = Rng::new(0xD1EC7);
    let started = Instant::now();
    let mut rows = 0u64;
    while started.elapsed() < duration {
        let batch: Vec<NewEntry> = (0..DIRECT_BATCH)
            .map(|_| {
                let n = rows;
                rows += 1;
                let npn = 1_000_000 + rng.below(100_000);
                let payload = body(&mut rng, &format!("whe_direct_{n}"), npn, 1_735_689_600);
                NewEntry::interpreted(
                    format!("msg_direct_{n}"),
                    1_735_689_600_000_000,
                    "/webhooks/agentsync".to_owned(),
                    payload.into_bytes(),
                )
            })
            .collect();
        store.append_batch(batch).await?;
    }
    Ok(rows as f64 / started.elapsed().as_secs_f64())
}
