//! The rebuild bench on PostgreSQL: the bulk log copied from its SQLite
//! file into a throwaway cluster with `producer-projector copy` (appended
//! and folded there, as an operator moving to PostgreSQL would), then the
//! same rounds of a plain scan and a `rebuildProjection`.

use std::path::Path;
use std::time::Instant;

use anyhow::bail;
use event_store::{Store, StoreOptions};

use crate::rebuild;
use crate::server_process::ServerProcess;

/// Copies the log at `sqlite_url` into PostgreSQL and runs `rounds` rounds.
pub async fn run(binary: &Path, dir: &Path, sqlite_url: &str, rounds: usize) -> anyhow::Result<()> {
    let cluster = test_postgres::Cluster::start();
    let url = cluster.create_database("bulk");
    let started = Instant::now();
    let status = tokio::process::Command::new(binary)
        .arg("copy")
        .env("PROJECTOR_COPY_FROM_URL", sqlite_url)
        .env("PROJECTOR_COPY_TO_URL", &url)
        .env("RUST_LOG", "warn")
        .status()
        .await?;
    if !status.success() {
        bail!("producer-projector copy failed: {status}");
    }
    println!(
        "\n## on PostgreSQL\nthe bulk log copied in with `producer-projector copy` (appended and folded): {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let server = ServerProcess::start(binary, &url, &dir.join("bulk-pg-server.log")).await?;
    let store = Store::open(&StoreOptions::new(url.clone())).await?;
    rebuild::run(&server, &store, rounds).await?;
    server.stop().await;
    Ok(())
}
