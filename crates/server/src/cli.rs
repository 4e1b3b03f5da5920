//! The command line: `serve` (the default), `migrate`, `send-example`.
//! Every setting has a flag and an environment variable; `--help` lists them.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use event_store::StoreOptions;

use crate::config::{
    ConfigError, DEFAULT_ACK_DEADLINE, DEFAULT_DATABASE_URL, DEFAULT_MAX_BODY_BYTES,
    DatabaseTuning, EndpointSecrets, ServeConfig, TrafficLimits,
};

/// producer-projector receives AgentSync webhooks, keeps every verified
/// delivery in an append-only event log, and folds the log into the current
/// state of each producer (by NPN).
#[derive(Debug, Parser)]
#[command(
    name = "producer-projector",
    version,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of `serve`, accepted without the subcommand too.
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Log line format.
    #[arg(long, env = "PROJECTOR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit (serve also applies them at start).
    Migrate(DatabaseArgs),
    /// Replay the whole log into a fresh projection and swap it in; safe while the service runs.
    Rebuild(DatabaseArgs),
    /// Append NDJSON lines of {webhook_id, timestamp, body} to the log as if delivered (a backfill), folding each batch into the projection as it is appended; safe while the service runs.
    Import(ImportArgs),
    /// Copy the whole log of one database into another (e.g. a SQLite file into PostgreSQL), folding the projection there as it goes; safe to run again (nothing is appended twice).
    Copy(CopyArgs),
    /// Print the GraphQL schema (SDL), or write it to a file.
    ExportSchema(ExportSchemaArgs),
    /// Sign an example envelope of one event type and post it, like the portal's "Send Example".
    SendExample(SendExampleArgs),
}

/// Where the database is, and how the service connects to it.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// The database: a SQLite file, sqlite://PATH (the default is a file under ./data, created with its folder if missing; an in-memory database cannot be shared by the threads that open it), or PostgreSQL 15 or newer, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (also postgresql://), which several replicas may share. The password is never printed.
    #[arg(long, env = "PROJECTOR_DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true, hide_default_value = false)]
    pub database_url: String,
    /// Connections for reads: this many threads each keep one (PostgreSQL: each replica opens these, one per writer and one that listens for other replicas' appends).
    #[arg(long, env = "PROJECTOR_DATABASE_READ_CONNECTIONS", default_value_t = 4)]
    pub database_read_connections: u32,
    /// PostgreSQL: milliseconds a connect may take before it fails (the delivery is then answered 503).
    #[arg(
        long,
        env = "PROJECTOR_DATABASE_CONNECT_TIMEOUT_MS",
        default_value_t = 5_000
    )]
    pub database_connect_timeout_ms: u64,
    /// PostgreSQL: milliseconds one statement may run (statement_timeout) before it is cancelled.
    #[arg(
        long,
        env = "PROJECTOR_DATABASE_STATEMENT_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    pub database_statement_timeout_ms: u64,
    /// PostgreSQL: milliseconds one statement may wait for a lock (lock_timeout), the lock that orders appends across replicas included; past it the delivery is answered 503 and retried by the sender.
    #[arg(
        long,
        env = "PROJECTOR_DATABASE_LOCK_TIMEOUT_MS",
        default_value_t = 5_000
    )]
    pub database_lock_timeout_ms: u64,
}

impl DatabaseArgs {
    /// The store's options for these settings, checked: a zero count or
    /// timeout is refused, naming its variable.
    pub fn store_options(&self) -> Result<StoreOptions, ConfigError> {
        positive(
            "PROJECTOR_DATABASE_READ_CONNECTIONS",
            u64::from(self.database_read_connections),
        )?;
        positive(
            "PROJECTOR_DATABASE_CONNECT_TIMEOUT_MS",
            self.database_connect_timeout_ms,
        )?;
        positive(
            "PROJECTOR_DATABASE_STATEMENT_TIMEOUT_MS",
            self.database_statement_timeout_ms,
        )?;
        positive(
            "PROJECTOR_DATABASE_LOCK_TIMEOUT_MS",
            self.database_lock_timeout_ms,
        )?;
        let tuning = DatabaseTuning {
            read_connections: self.database_read_connections,
            connect_timeout: Duration::from_millis(self.database_connect_timeout_ms),
            statement_timeout: Duration::from_millis(self.database_statement_timeout_ms),
            lock_timeout: Duration::from_millis(self.database_lock_timeout_ms),
        };
        Ok(tuning.options(&self.database_url))
    }
}

/// Options of `serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "PROJECTOR_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Database location.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Keys for all webhook paths: one or more whsec_<base64> secrets (v1 signatures) and/or whpk_<base64> ed25519 public keys (v1a), separated by spaces or commas (old and new during a rotation). Required.
    #[arg(long, env = "PROJECTOR_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
    /// Keys (whsec_ or whpk_) for /webhooks/psapi only, replacing PROJECTOR_WEBHOOK_SECRET there.
    #[arg(long, env = "PROJECTOR_WEBHOOK_SECRET_PSAPI", hide_env_values = true)]
    pub webhook_secret_psapi: Option<String>,
    /// Keys (whsec_ or whpk_) for /webhooks/contracting only, replacing PROJECTOR_WEBHOOK_SECRET there.
    #[arg(
        long,
        env = "PROJECTOR_WEBHOOK_SECRET_CONTRACTING",
        hide_env_values = true
    )]
    pub webhook_secret_contracting: Option<String>,
    /// How far (seconds, either direction) a delivery's webhook-timestamp may be from now.
    #[arg(long, env = "PROJECTOR_WEBHOOK_TOLERANCE_SECS", default_value_t = 300)]
    pub webhook_tolerance_secs: u64,
    /// Largest accepted webhook body, in bytes. The sender delivers bodies up to about 2 MiB and retries a refused one until it drops it, so lowering this loses events; the default (4 MiB) covers what it can send.
    #[arg(long, env = "PROJECTOR_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Bearer token required by GraphQL mutations (rebuildProjection). Unset: mutations are off.
    #[arg(long, env = "PROJECTOR_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Webhook deliveries served at once; more are answered 503 with Retry-After at once.
    #[arg(
        long,
        env = "PROJECTOR_MAX_INFLIGHT_DELIVERIES",
        default_value_t = 1_024
    )]
    pub max_inflight_deliveries: usize,
    /// GraphQL requests served at once; more are answered 503 at once, so dashboards cannot starve ingest.
    #[arg(long, env = "PROJECTOR_MAX_INFLIGHT_GRAPHQL", default_value_t = 64)]
    pub max_inflight_graphql: usize,
    /// Milliseconds a GraphQL request may run; past it the answer is 503 and its database work stops.
    #[arg(long, env = "PROJECTOR_GRAPHQL_TIMEOUT_MS", default_value_t = 30_000)]
    pub graphql_timeout_ms: u64,
    /// WebSocket connections to /graphql/ws open at once; more are refused with 503.
    #[arg(long, env = "PROJECTOR_MAX_WS_CONNECTIONS", default_value_t = 256)]
    pub max_ws_connections: usize,
    /// GraphQL subscriptions running at once over all WebSocket connections; one more is answered with an error naming this limit.
    #[arg(long, env = "PROJECTOR_MAX_SUBSCRIPTIONS", default_value_t = 1_024)]
    pub max_subscriptions: usize,
    /// Cap the SQLite database at this many 4 KiB pages (a size budget); past it deliveries are answered 503 like on a full disk.
    #[arg(long, env = "PROJECTOR_MAX_DATABASE_PAGES")]
    pub max_database_pages: Option<u32>,
    /// Milliseconds a delivery may take before it is answered 503 instead (AgentSync requires a 2xx within 5 s).
    #[arg(long, env = "PROJECTOR_ACK_DEADLINE_MS", default_value_t = DEFAULT_ACK_DEADLINE.as_millis() as u64)]
    pub ack_deadline_ms: u64,
}

impl ServeArgs {
    /// Validates the options into a [`ServeConfig`]: a setting that makes
    /// no sense (a zero limit or deadline) is refused, naming its variable.
    pub fn to_config(&self) -> Result<ServeConfig, ConfigError> {
        positive(
            "PROJECTOR_MAX_INFLIGHT_DELIVERIES",
            self.max_inflight_deliveries as u64,
        )?;
        positive("PROJECTOR_ACK_DEADLINE_MS", self.ack_deadline_ms)?;
        positive("PROJECTOR_MAX_BODY_BYTES", self.max_body_bytes as u64)?;
        positive(
            "PROJECTOR_MAX_INFLIGHT_GRAPHQL",
            self.max_inflight_graphql as u64,
        )?;
        positive("PROJECTOR_GRAPHQL_TIMEOUT_MS", self.graphql_timeout_ms)?;
        positive(
            "PROJECTOR_MAX_WS_CONNECTIONS",
            self.max_ws_connections as u64,
        )?;
        positive("PROJECTOR_MAX_SUBSCRIPTIONS", self.max_subscriptions as u64)?;
        let database = self.database.store_options()?;
        Ok(ServeConfig {
            database_url: database.url.clone(),
            database_tuning: DatabaseTuning::of(&database),
            secrets: EndpointSecrets::parse(
                self.webhook_secret.as_deref(),
                self.webhook_secret_psapi.as_deref(),
                self.webhook_secret_contracting.as_deref(),
            )?,
            tolerance_secs: self.webhook_tolerance_secs,
            max_body_bytes: self.max_body_bytes,
            ack_deadline: Duration::from_millis(self.ack_deadline_ms),
            admin_token: self.admin_token.clone().filter(|token| !token.is_empty()),
            max_database_pages: self.max_database_pages,
            limits: TrafficLimits {
                max_inflight_deliveries: self.max_inflight_deliveries,
                max_inflight_graphql: self.max_inflight_graphql,
                graphql_timeout: Duration::from_millis(self.graphql_timeout_ms),
                max_ws_connections: self.max_ws_connections,
                max_subscriptions: self.max_subscriptions,
                ..TrafficLimits::default()
            },
        })
    }
}

/// Refuses a zero where only a positive number makes sense (0 in-flight
/// deliveries would shed every request; a 0 deadline would answer every
/// delivery 503).
fn positive(variable: &'static str, value: u64) -> Result<(), ConfigError> {
    if value == 0 {
        return Err(ConfigError::NotPositive { variable });
    }
    Ok(())
}

/// Options of `copy`.
#[derive(Debug, Clone, Args)]
pub struct CopyArgs {
    /// The database to copy from (sqlite://PATH or postgres://…); it is only read.
    #[arg(long, env = "PROJECTOR_COPY_FROM_URL", hide_env_values = true)]
    pub from: String,
    /// The database to copy into (created and migrated if needed); best empty, so every entry keeps its position.
    #[arg(long, env = "PROJECTOR_COPY_TO_URL", hide_env_values = true)]
    pub to: String,
}

/// Options of `send-example`.
#[derive(Debug, Clone, Args)]
pub struct SendExampleArgs {
    /// The event type, e.g. producersync.npn.activated (an unknown type lists the known ones).
    pub event_type: String,
    /// The webhook URL to post to.
    #[arg(long, default_value = "http://127.0.0.1:8080/webhooks/agentsync")]
    pub url: String,
    /// Put this NPN in data.npn (for types whose example has one).
    #[arg(long)]
    pub npn: Option<String>,
    /// The key to sign with: a whsec_ secret (v1) or a whsk_ ed25519 signing key (v1a); the first one is used when several are given.
    #[arg(long, env = "PROJECTOR_WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<String>,
}

/// Options of `export-schema`.
#[derive(Debug, Clone, Args)]
pub struct ExportSchemaArgs {
    /// Write the SDL here (e.g. schema/schema.graphql) instead of to standard output.
    #[arg(long)]
    pub output: Option<std::path::PathBuf>,
}

/// Options of `import`.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// The NDJSON file: one {"webhook_id": "...", "timestamp": <seconds>, "body": "<raw body text>"} per line.
    pub file: std::path::PathBuf,
    /// Database location.
    #[command(flatten)]
    pub database: DatabaseArgs,
}
