//! The `producer-projector` binary: parse the command line, set up logging,
//! run the command. The only place `anyhow` is used.

use anyhow::{Context, bail};
use clap::Parser;
use producer_projector::cli::{Cli, Command, LogFormat, SendExampleArgs, ServeArgs};
use producer_projector::send_example::send_example;
use tokio::net::TcpListener;
use webhook_verify::Signer;

/// mimalloc: the rebuild and the ingest path allocate many small JSON
/// values; glibc's allocator spent a quarter of a rebuild's CPU in
/// malloc/free (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    match cli.command {
        None => run_serve(cli.serve).await,
        Some(Command::Serve(args)) => run_serve(args).await,
        Some(Command::Migrate(args)) => {
            let applied = event_store::Store::migrate(&args.store_options()?).await?;
            println!("{applied} migration(s) applied");
            Ok(())
        }
        Some(Command::SendExample(args)) => run_send_example(args).await,
        Some(Command::Rebuild(args)) => {
            let report = producer_projector::rebuild_offline(&args.store_options()?).await?;
            println!(
                "rebuilt generation {}: {} events folded, {} producers written in {} ms ({:.0} events/s)",
                report.generation,
                report.events_folded,
                report.producers_written,
                report.duration_ms,
                report.events_per_second
            );
            Ok(())
        }
        Some(Command::Import(args)) => {
            let report = producer_projector::import::import_file(
                &args.database.store_options()?,
                &args.file,
            )
            .await?;
            if let Some(rebuild) = &report.rebuild {
                println!(
                    "the database had no current projection: rebuilt generation {} first, in {} ms ({:.0} events/s)",
                    rebuild.generation, rebuild.duration_ms, rebuild.events_per_second
                );
            }
            println!(
                "imported {} lines: {} appended and folded, {} already in the log, in {:.2} s ({:.0} lines/s)",
                report.lines,
                report.appended,
                report.duplicates,
                report.append_seconds,
                report.lines as f64 / report.append_seconds.max(1e-9),
            );
            Ok(())
        }
        Some(Command::Copy(args)) => {
            let from = event_store::StoreOptions::new(args.from.clone());
            let to = event_store::StoreOptions::new(args.to.clone());
            let report = producer_projector::copy::copy_log(&from, &to).await?;
            if report.destination_had > 0 {
                println!(
                    "the destination held {} entries before: the copied ones took positions after them",
                    report.destination_had
                );
            }
            println!(
                "copied {} entries from {} to {}: {} appended and folded, {} already there, in {:.2} s",
                report.read,
                event_store::masked_url(&args.from),
                event_store::masked_url(&args.to),
                report.appended,
                report.duplicates,
                report.seconds
            );
            Ok(())
        }
        Some(Command::ExportSchema(args)) => {
            let sdl = graphql_api::export_sdl();
            match args.output {
                Some(path) => std::fs::write(&path, sdl)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{sdl}"),
            }
            Ok(())
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = producer_projector::logging::env_filter("info");
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.to_config()?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    producer_projector::serve(config, listener, shutdown_signal()).await?;
    Ok(())
}

async fn run_send_example(args: SendExampleArgs) -> anyhow::Result<()> {
    let Some(secret_text) = args.webhook_secret.as_deref() else {
        bail!(
            "PROJECTOR_WEBHOOK_SECRET (or --webhook-secret) is not set: send-example signs with it"
        );
    };
    let signer = Signer::parse_first(secret_text)
        .map_err(|reason| anyhow::anyhow!("PROJECTOR_WEBHOOK_SECRET is not usable: {reason}"))?;
    let report = send_example(&args.url, &signer, &args.event_type, args.npn.as_deref()).await?;
    println!(
        "{} {} (webhook-id {})",
        report.status, report.body, report.webhook_id
    );
    if !(200..300).contains(&report.status) {
        bail!("the service answered {}", report.status);
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM, for a graceful shutdown.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
