//! The real `producer-projector` binary, run as a child process so its
//! memory can be measured on its own.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::process::{Child, Command};

/// The development secret the benchmarks sign with.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The admin token the benchmarks use for `rebuildProjection`.
pub const ADMIN_TOKEN: &str = "bench-admin-token";

/// A running server.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
}

/// The server binary beside this one (both built by the same cargo call).
pub fn default_server_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("producer-projector")))
        .unwrap_or_else(|| PathBuf::from("producer-projector"))
}

/// The server binary to run: the one given, or the one beside this binary.
pub fn server_binary(given: Option<&Path>) -> anyhow::Result<PathBuf> {
    let binary = given.map_or_else(default_server_binary, Path::to_path_buf);
    if !binary.exists() {
        bail!(
            "{} not found: run `cargo build --release -p producer-projector -p projector-bench`",
            binary.display()
        );
    }
    Ok(binary)
}

/// The URL of a new, empty SQLite database `name` in `dir` (any earlier
/// file of that name is removed).
pub fn fresh_database(dir: &Path, name: &str) -> String {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{name}{suffix}")));
    }
    format!("sqlite://{}", dir.join(name).display())
}

impl ServerProcess {
    /// Starts the server on a free loopback port over `database_url`.
    pub async fn start(binary: &Path, database_url: &str, log_file: &Path) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(log_file)?;
        let child = Command::new(binary)
            .arg("serve")
            .env("PROJECTOR_LISTEN", format!("127.0.0.1:{port}"))
            .env("PROJECTOR_DATABASE_URL", database_url)
            .env("PROJECTOR_WEBHOOK_SECRET", SECRET)
            .env("PROJECTOR_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
        };
        server.wait_until_ready().await?;
        Ok(server)
    }

    async fn wait_until_ready(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        for _ in 0..1_200 {
            let ready = client.get(format!("{}/readyz", self.base_url)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the server did not become ready within 60 s")
    }

    /// The server's peak resident set so far, in MiB (`VmHWM`).
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let pid = self.child.id()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }

    /// Stops the server.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
