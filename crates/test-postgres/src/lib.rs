//! A throwaway PostgreSQL for tests, started by the test suite itself.
//!
//! The first test of a process that asks for a database starts one
//! cluster from Debian's `postgresql` package: `initdb` into a temporary
//! folder, `pg_ctl start` on a free loopback port, both run as the
//! `postgres` user (PostgreSQL refuses to run as root). Each test then gets
//! a database of its own in it ([`database`]). The cluster is stopped
//! (`pg_ctl stop -m immediate`) and its folder removed when the process
//! exits. Nothing here skips: a machine without the package fails the test
//! with a message that says what to install.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// The user the cluster runs as: Debian's package creates it.
const OWNER: &str = "postgres";

/// A running cluster: its folder, port and the binaries that run it.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    folder: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    /// Starts a new cluster in a temporary folder, on a free port.
    ///
    /// # Panics
    /// When Debian's `postgresql` package is missing, or the cluster does
    /// not start: a test that needs PostgreSQL cannot run without it.
    pub fn start() -> Self {
        let bin = server_binaries();
        let folder = tempfile::Builder::new()
            .prefix("projector-pg-")
            .tempdir()
            .expect("a temporary folder for the PostgreSQL cluster");
        let cluster = Self {
            bin,
            port: free_port(),
            folder,
        };
        cluster.hand_to_owner(cluster.folder.path());
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-A",
                "trust",
                "-U",
                OWNER,
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        cluster.start_server();
        cluster
    }

    /// The cluster's port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` in this cluster.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://{OWNER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a database named `name` and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        self.run(
            "createdb",
            &[
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                OWNER,
                name,
            ],
        );
        self.url(name)
    }

    /// Stops the server at once, as a crash would (`-m immediate`: no
    /// checkpoint, clients cut off); [`Cluster::start_server`] brings it
    /// back on the same port with the same data.
    pub fn stop_immediately(&self) {
        self.pg_ctl(&["stop", "-m", "immediate", "-w"]);
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub fn start_server(&self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=on -c max_connections=200",
            self.port,
            self.folder.path().display()
        );
        let log = self.folder.path().join("server.log").display().to_string();
        self.pg_ctl(&["start", "-w", "-t", "60", "-l", &log, "-o", &options]);
    }

    fn data(&self) -> PathBuf {
        self.folder.path().join("data")
    }

    fn pg_ctl(&self, args: &[&str]) {
        let data = self.data().display().to_string();
        let mut all = vec!["-D", data.as_str()];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all);
    }

    /// Runs one of the server's programs as the cluster's owner (root is
    /// refused by PostgreSQL) and panics with its output when it fails.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let program = self.bin.join(program);
        let output = as_owner(&program)
            .args(args)
            .current_dir(self.folder.path())
            .output()
            .unwrap_or_else(|error| panic!("{} could not run: {error}", program.display()));
        assert!(
            output.status.success(),
            "{} {} failed: {}{}",
            program.display(),
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn hand_to_owner(&self, path: &Path) {
        if running_as_root() {
            let status = Command::new("chown")
                .args(["-R", &format!("{OWNER}:{OWNER}")])
                .arg(path)
                .status()
                .expect("chown runs");
            assert!(status.success(), "chown of {} failed", path.display());
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data().display().to_string();
        // Best effort: the folder goes with the TempDir either way.
        let _ = as_owner(&self.bin.join("pg_ctl"))
            .args(["-D", &data, "stop", "-m", "immediate"])
            .output();
    }
}

/// A command running `program` as the cluster's owner: through `runuser`
/// when this process is root (PostgreSQL refuses to run as root).
fn as_owner(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", OWNER, "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// The process's shared cluster, started on first use; and the databases
/// handed out so far.
static SHARED: OnceLock<Mutex<Cluster>> = OnceLock::new();

/// The process's shared cluster, started on first use: for tests that
/// stop and restart the server themselves, start a [`Cluster`] of their
/// own instead.
pub fn shared() -> &'static Mutex<Cluster> {
    SHARED.get_or_init(|| {
        let cluster = Cluster::start();
        stop_at_exit(&cluster);
        Mutex::new(cluster)
    })
}

/// A new, empty database in the process's shared cluster: its URL.
pub fn database() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let cluster = shared().lock().unwrap_or_else(|poison| poison.into_inner());
    cluster.create_database(&name)
}

/// Statics are never dropped, so the shared cluster is stopped when the
/// process exits by a watcher process: it waits for this process to end,
/// then stops the server and removes its folder.
fn stop_at_exit(cluster: &Cluster) {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop}; rm -rf {folder}",
        pid = std::process::id(),
        stop = if running_as_root() {
            format!(
                "runuser -u {OWNER} -- {} -D {} stop -m immediate",
                cluster.bin.join("pg_ctl").display(),
                cluster.data().display()
            )
        } else {
            format!(
                "{} -D {} stop -m immediate",
                cluster.bin.join("pg_ctl").display(),
                cluster.data().display()
            )
        },
        folder = cluster.folder.path().display()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
}

/// The newest installed server's `bin` folder (Debian installs each
/// major version under `/usr/lib/postgresql/N/bin`).
fn server_binaries() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL's server is not installed: the tests need Debian's `postgresql` package \
             (scripts/test installs it)"
        ),
    }
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A port nothing listens on now (the server takes it a moment later).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}
