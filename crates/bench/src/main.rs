//! `projector-bench`: measures producer-projector on this machine and
//! prints each figure beside its ceiling (what the same machine does with
//! no work: `/healthz` for ingest, a plain body scan for rebuild).
//! Timings are printed, never asserted.

mod audit;
mod crash;
mod crash_replicas;
mod dataset;
mod events;
mod http1;
mod ingest;
mod ingest_postgres;
mod load;
mod queries;
mod rebuild;
mod rebuild_postgres;
mod rebuild_under_load;
mod server_process;
mod subscriber;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use event_store::{Store, StoreOptions};

use crate::load::LoadResult;
use crate::server_process::{ServerProcess, fresh_database, server_binary};

/// The load generator shares the machine with the server it measures;
/// mimalloc keeps its allocations as cheap as the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Benchmarks of producer-projector (build with --release first).
#[derive(Parser)]
#[command(name = "projector-bench")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every bench: ingest, bulk load, rebuild, queries.
    All(Options),
    /// Only the ingest bench.
    Ingest(Options),
    /// Bulk load, rebuild and queries.
    Bulk(Options),
    /// The crash test: SIGKILL the server under load, restart, check nothing was lost or doubled.
    Crash(CrashOptions),
}

#[derive(Args, Clone)]
struct CrashOptions {
    /// The producer-projector binary (default: beside this one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// How many times to kill the server.
    #[arg(long, default_value_t = 10)]
    kills: usize,
    /// Concurrent senders.
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Run on PostgreSQL instead: a throwaway cluster (Debian's postgresql
    /// package), three replicas, and in each round one replica killed or
    /// PostgreSQL stopped immediately.
    #[arg(long)]
    postgres: bool,
}

#[derive(Args, Clone)]
struct Options {
    /// The producer-projector binary (default: beside this one).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Where databases and logs go (default: a temporary folder).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Seconds each load phase runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Connections for the ingest bench.
    #[arg(long, default_value_t = 64)]
    ingest_connections: usize,
    /// Connections for the query bench.
    #[arg(long, default_value_t = 32)]
    query_connections: usize,
    /// Events in the bulk log.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Producers in the bulk log.
    #[arg(long, default_value_t = 100_000)]
    npns: u64,
    /// Rounds of the rebuild bench (a plain scan, then `rebuildProjection`):
    /// each is printed, then the medians.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    rebuild_rounds: u32,
    /// Skip generating and importing the bulk log: reuse `bulk.db` left in
    /// `--work-dir` by an earlier run with the same `--events` and `--npns`.
    #[arg(long, requires = "work_dir")]
    reuse_bulk_log: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Crash(crash) = &cli.command {
        return run_crash(crash).await;
    }
    let (options, ingest, bulk) = match cli.command {
        Command::All(o) => (o, true, true),
        Command::Ingest(o) => (o, true, false),
        Command::Bulk(o) => (o, false, true),
        Command::Crash(_) => return Ok(()),
    };
    let temp = tempfile::tempdir()?;
    let dir = options
        .work_dir
        .clone()
        .unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir)?;
    let binary = server_binary(options.server_bin.as_deref())?;
    print_machine();
    if ingest {
        run_ingest(&binary, &dir, &options).await?;
    }
    if bulk {
        run_bulk(&binary, &dir, &options).await?;
    }
    Ok(())
}

async fn run_crash(options: &CrashOptions) -> anyhow::Result<()> {
    let binary = server_binary(options.server_bin.as_deref())?;
    let dir = tempfile::tempdir()?;
    let (report, on) = if options.postgres {
        let report =
            crash_replicas::run(&binary, dir.path(), options.kills, options.connections).await?;
        (
            report,
            "PostgreSQL, 3 replicas; kills of a replica or of PostgreSQL",
        )
    } else {
        let report = crash::run(&binary, dir.path(), options.kills, options.connections).await?;
        (report, "SQLite")
    };
    println!(
        "crash test ({on}): {} deliveries acknowledged, {} kills, lost = {}, duplicated = {}, {} retries after restarts answered duplicate, {} entries logged, positions gap-free = {}, projection equals a fresh rebuild = {}",
        report.acknowledged,
        report.kills,
        report.lost,
        report.duplicated,
        report.retries_deduplicated,
        report.logged,
        report.gap_free,
        report.projection_matches
    );
    if let Some(in_order) = report.subscribers_in_order {
        println!(
            "a subscriber on each replica was sent every position once, in order = {in_order}"
        );
    }
    let passed = report.lost == 0
        && report.duplicated == 0
        && report.gap_free
        && report.projection_matches
        && report.subscribers_in_order != Some(false);
    println!("{} passed, {} failed", u8::from(passed), u8::from(!passed));
    if !passed {
        bail!("the crash test failed");
    }
    Ok(())
}

fn print_machine() {
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(str::to_owned))
        .unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(str::to_owned)
        })
        .unwrap_or_default();
    println!("machine: {cores} cores; {}; {}", cpu.trim(), memory.trim());
}

fn latency_row(name: &str, result: &LoadResult, extra: &str) {
    println!(
        "| {name} | {:.0}/s | {:.2} ms | {:.2} ms | {:.2} ms | {} ok, {} failed | {extra} |",
        result.rate(),
        result.latency_ms(0.5),
        result.latency_ms(0.99),
        result.latency_ms(1.0),
        result.ok,
        result.failed
    );
}

fn table_header() {
    println!("| bench | throughput | p50 | p99 | max | requests | notes |");
    println!("|---|---|---|---|---|---|---|");
}

async fn run_ingest(binary: &Path, dir: &Path, options: &Options) -> anyhow::Result<()> {
    let duration = Duration::from_secs(options.seconds);
    let report = ingest::run(binary, dir, options.ingest_connections, duration).await?;
    println!(
        "\n## ingest ({} connections, {} s each, synchronous=FULL)",
        options.ingest_connections, options.seconds
    );
    table_header();
    latency_row("GET /healthz (ceiling)", &report.ceiling, "");
    let ratio = report.ingest.rate() / report.ceiling.rate().max(1e-9) * 100.0;
    latency_row(
        "POST /webhooks/agentsync",
        &report.ingest,
        &format!(
            "{ratio:.0}% of the ceiling; {} acknowledged ids each in the log exactly once",
            report.verified
        ),
    );
    println!(
        "peak RSS of the server: {:.1} MiB",
        report.peak_rss_mib.unwrap_or(f64::NAN)
    );

    let postgres = ingest_postgres::run(binary, dir, options.ingest_connections, duration).await?;
    println!(
        "\n## ingest on PostgreSQL ({} connections, {} s each, synchronous_commit=on, one throwaway cluster on this machine)",
        options.ingest_connections, options.seconds
    );
    table_header();
    let sqlite = report.ingest.rate();
    let mut one_replica = None;
    for (replicas, result) in &postgres.by_replicas {
        let one = *one_replica.get_or_insert(result.rate());
        latency_row(
            &format!("POST /webhooks/agentsync, {replicas} replica(s)"),
            result,
            &format!(
                "{:.2}× SQLite, {:.2}× 1 replica, {:.0}% of the direct ceiling; every acknowledged id in the log once",
                result.rate() / sqlite.max(1e-9),
                result.rate() / one.max(1e-9),
                result.rate() / postgres.direct_rows_per_second.max(1e-9) * 100.0
            ),
        );
    }
    println!(
        "direct appends without HTTP (batches of 64, serialised by the write lock, no fold): {:.0} rows/s",
        postgres.direct_rows_per_second
    );
    Ok(())
}

async fn run_bulk(binary: &Path, dir: &Path, options: &Options) -> anyhow::Result<()> {
    let url = if options.reuse_bulk_log {
        let file = dir.join("bulk.db");
        if !file.exists() {
            bail!("--reuse-bulk-log: {} does not exist", file.display());
        }
        format!("sqlite://{}", file.display())
    } else {
        load_bulk_log(binary, dir, options).await?
    };
    run_bulk_benches(binary, dir, options, url).await
}

/// Generates the bulk NDJSON log and imports it into a fresh `bulk.db`.
async fn load_bulk_log(binary: &Path, dir: &Path, options: &Options) -> anyhow::Result<String> {
    let log_file = dir.join("bulk.ndjson");
    let started = Instant::now();
    let bytes = dataset::write_log(&log_file, options.events, options.npns, 0x5EED)?;
    println!(
        "\n## bulk load\ngenerated {} events over {} NPNs ({:.0} MiB NDJSON) in {:.1} s",
        options.events,
        options.npns,
        bytes as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );
    let url = fresh_database(dir, "bulk.db");
    let (import_seconds, import_rss) = run_import(binary, &log_file, &url).await?;
    println!(
        "import (append + initial rebuild): {import_seconds:.1} s, {:.0} events/s, peak RSS {import_rss:.1} MiB",
        options.events as f64 / import_seconds
    );
    Ok(url)
}

/// Plain scan, rebuild and query benches against the bulk log at `url`.
async fn run_bulk_benches(
    binary: &Path,
    dir: &Path,
    options: &Options,
    url: String,
) -> anyhow::Result<()> {
    let server = ServerProcess::start(binary, &url, &dir.join("bulk-server.log")).await?;
    let store = Store::open(&StoreOptions::new(url.clone())).await?;
    rebuild::run(&server, &store, options.rebuild_rounds as usize).await?;
    rebuild_postgres::run(binary, dir, &url, options.rebuild_rounds as usize).await?;

    let duration = Duration::from_secs(options.seconds);
    println!(
        "\n## queries ({} producers, {} connections)",
        options.npns, options.query_connections
    );
    table_header();
    let by_npn =
        queries::producer_by_npn(&server, options.npns, options.query_connections, duration).await;
    latency_row("producer(npn)", &by_npn, "random NPNs");
    let pages =
        queries::producer_pages(&server, options.npns, options.query_connections, duration).await;
    latency_row("producers(first: 100)", &pages, "random start cursors");
    let (active, count) = queries::active_npns(&server, 20).await;
    latency_row(
        "activeNpns",
        &active,
        &format!("1 connection, {count} NPNs per answer"),
    );
    println!(
        "peak RSS of the server over rebuild and queries: {:.1} MiB",
        server.peak_rss_mib().unwrap_or(f64::NAN)
    );
    server.stop().await;
    drop(store);
    // On a copy, so that the bulk log keeps the events it was loaded with
    // for the next run that reuses it.
    let copy_url = fresh_database(dir, "under-load.db");
    let bulk = url.trim_start_matches("sqlite://");
    let copy = copy_url.trim_start_matches("sqlite://");
    for suffix in ["", "-wal"] {
        let from = format!("{bulk}{suffix}");
        if Path::new(&from).exists() {
            let to = format!("{copy}{suffix}");
            std::fs::copy(&from, &to).with_context(|| format!("copying {from}"))?;
            // Written to the disk now: otherwise the server's first sync of
            // the file writes the whole copy, and every commit of the
            // measured load waits behind it.
            std::fs::File::open(&to)
                .and_then(|file| file.sync_all())
                .with_context(|| format!("syncing {to}"))?;
        }
    }
    let server =
        ServerProcess::start(binary, &copy_url, &dir.join("under-load-server.log")).await?;
    rebuild_under_load::run(&server, options.ingest_connections).await?;
    server.stop().await;
    fresh_database(dir, "under-load.db");
    Ok(())
}

/// Runs `producer-projector import` and samples its peak RSS.
async fn run_import(binary: &Path, file: &Path, url: &str) -> anyhow::Result<(f64, f64)> {
    let started = Instant::now();
    let mut child = tokio::process::Command::new(binary)
        .arg("import")
        .arg(file)
        .arg("--database-url")
        .arg(url)
        .env("RUST_LOG", "warn")
        .spawn()?;
    let pid = child.id().unwrap_or(0);
    let mut peak = 0.0f64;
    loop {
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                bail!("import failed: {status}");
            }
            return Ok((started.elapsed().as_secs_f64(), peak));
        }
        if let Some(rss) = read_hwm(pid) {
            peak = peak.max(rss);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn read_hwm(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace()
        .nth(1)?
        .parse::<f64>()
        .ok()
        .map(|kib| kib / 1024.0)
}
