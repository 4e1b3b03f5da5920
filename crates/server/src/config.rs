//! The service's configuration, checked once at start.

use std::time::Duration;

use event_store::StoreOptions;
use webhook_verify::{SecretError, SecretSet};

/// The webhook paths AgentSync can deliver to. Each may have its own secret
/// because AgentSync gives each registered endpoint its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/webhooks/agentsync`
    Agentsync,
    /// `/webhooks/psapi`
    Psapi,
    /// `/webhooks/contracting`
    Contracting,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Endpoint; 3] = [Endpoint::Agentsync, Endpoint::Psapi, Endpoint::Contracting];

    /// The last segment of the path, as in `/webhooks/{name}`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Agentsync => "agentsync",
            Endpoint::Psapi => "psapi",
            Endpoint::Contracting => "contracting",
        }
    }

    /// The full path, recorded with each event as its source.
    pub fn path(self) -> String {
        format!("/webhooks/{}", self.name())
    }

    /// The endpoint a path segment names.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|endpoint| endpoint.name() == name)
    }
}

/// The secrets each endpoint verifies with.
#[derive(Debug, Clone)]
pub struct EndpointSecrets {
    /// For `/webhooks/agentsync`, and for the others unless overridden.
    pub default: SecretSet,
    /// Overrides for `/webhooks/psapi`.
    pub psapi: Option<SecretSet>,
    /// Overrides for `/webhooks/contracting`.
    pub contracting: Option<SecretSet>,
}

/// A secret variable that could not be used. Names the variable, never the
/// value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The required default secret is absent.
    #[error(
        "{variable} is not set: set it to the endpoint's whsec_ signing secret or whpk_ public key (several may be given, separated by spaces or commas)"
    )]
    MissingSecret {
        /// The environment variable.
        variable: &'static str,
    },
    /// A secret is malformed.
    #[error("{variable} is not usable: {reason}")]
    BadSecret {
        /// The environment variable.
        variable: &'static str,
        /// What is wrong, without the secret.
        reason: SecretError,
    },
    /// A limit or deadline set to zero, which would refuse everything.
    #[error("{variable} must be greater than 0")]
    NotPositive {
        /// The environment variable.
        variable: &'static str,
    },
}

impl EndpointSecrets {
    /// Parses the default secret (required) and the per-path overrides.
    pub fn parse(
        default: Option<&str>,
        psapi: Option<&str>,
        contracting: Option<&str>,
    ) -> Result<Self, ConfigError> {
        let default =
            default
                .filter(|text| !text.trim().is_empty())
                .ok_or(ConfigError::MissingSecret {
                    variable: "PROJECTOR_WEBHOOK_SECRET",
                })?;
        Ok(Self {
            default: parse_set(default, "PROJECTOR_WEBHOOK_SECRET")?,
            psapi: psapi
                .map(|text| parse_set(text, "PROJECTOR_WEBHOOK_SECRET_PSAPI"))
                .transpose()?,
            contracting: contracting
                .map(|text| parse_set(text, "PROJECTOR_WEBHOOK_SECRET_CONTRACTING"))
                .transpose()?,
        })
    }

    /// The secrets that verify deliveries to `endpoint`.
    pub fn for_endpoint(&self, endpoint: Endpoint) -> &SecretSet {
        let specific = match endpoint {
            Endpoint::Agentsync => None,
            Endpoint::Psapi => self.psapi.as_ref(),
            Endpoint::Contracting => self.contracting.as_ref(),
        };
        specific.unwrap_or(&self.default)
    }
}

fn parse_set(text: &str, variable: &'static str) -> Result<SecretSet, ConfigError> {
    SecretSet::parse(text).map_err(|reason| ConfigError::BadSecret { variable, reason })
}

/// Everything `serve` needs, already validated.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The database URL (`sqlite://PATH` or `postgres://…`).
    pub database_url: String,
    /// How the store connects to it, beyond the URL.
    pub database_tuning: DatabaseTuning,
    /// The webhook secrets.
    pub secrets: EndpointSecrets,
    /// How far a delivery's timestamp may be from now, in seconds.
    pub tolerance_secs: u64,
    /// The largest body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a delivery may take from arrival to answer; past it the
    /// answer is 503, never a late 200 (AgentSync allows 5 s).
    pub ack_deadline: Duration,
    /// The bearer token GraphQL mutations need; `None` turns them off.
    pub admin_token: Option<String>,
    /// Limits that keep a flood from slowing every answer down.
    pub limits: TrafficLimits,
    /// Caps the SQLite database at this many pages (4 KiB each); past it,
    /// deliveries are answered 503 as on a full disk.
    pub max_database_pages: Option<u32>,
}

/// How much traffic is served at once. Past a limit, requests are refused
/// at once with 503 and `Retry-After` (load shedding) instead of queueing
/// past AgentSync's 5-second deadline; webhooks and GraphQL have separate
/// limits so dashboards cannot starve ingest.
#[derive(Debug, Clone, Copy)]
pub struct TrafficLimits {
    /// Webhook deliveries in flight at once.
    pub max_inflight_deliveries: usize,
    /// GraphQL requests in flight at once.
    pub max_inflight_graphql: usize,
    /// The largest GraphQL request body, in bytes.
    pub max_graphql_body_bytes: usize,
    /// How long a GraphQL request may run.
    pub graphql_timeout: Duration,
    /// WebSocket connections (subscriptions) open at once.
    pub max_ws_connections: usize,
    /// Subscriptions running at once, over all connections.
    pub max_subscriptions: usize,
}

impl Default for TrafficLimits {
    fn default() -> Self {
        Self {
            max_inflight_deliveries: 1_024,
            max_inflight_graphql: 64,
            max_graphql_body_bytes: 64 * 1024,
            graphql_timeout: Duration::from_secs(30),
            max_ws_connections: 256,
            max_subscriptions: 1_024,
        }
    }
}

/// The connection settings of [`StoreOptions`] besides its URL, so that a
/// config can be written out with only the URL chosen.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseTuning {
    /// Reading threads, each with its connection.
    pub read_connections: u32,
    /// PostgreSQL: how long a connect may take.
    pub connect_timeout: Duration,
    /// PostgreSQL: `statement_timeout`.
    pub statement_timeout: Duration,
    /// PostgreSQL: `lock_timeout`.
    pub lock_timeout: Duration,
}

impl Default for DatabaseTuning {
    /// The store's defaults.
    fn default() -> Self {
        Self::of(&StoreOptions::new(String::new()))
    }
}

impl DatabaseTuning {
    /// The tuning `options` carry.
    pub fn of(options: &StoreOptions) -> Self {
        Self {
            read_connections: options.read_connections,
            connect_timeout: options.connect_timeout,
            statement_timeout: options.statement_timeout,
            lock_timeout: options.lock_timeout,
        }
    }

    /// The store's options for the database at `url`, tuned so.
    pub fn options(&self, url: &str) -> StoreOptions {
        let mut options = StoreOptions::new(url.to_owned());
        options.read_connections = self.read_connections;
        options.connect_timeout = self.connect_timeout;
        options.statement_timeout = self.statement_timeout;
        options.lock_timeout = self.lock_timeout;
        options
    }
}

/// The default database: a SQLite file under `./data`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/producer-projector.db";

/// The default answer deadline, safely inside AgentSync's 5 seconds.
pub const DEFAULT_ACK_DEADLINE: Duration = Duration::from_millis(4_000);

/// The sender's own deadline for a 2xx answer.
pub const SENDER_DEADLINE: Duration = Duration::from_secs(5);

/// The default body limit: the sender delivers bodies up to about 2 MiB,
/// and one refused as too large is retried for a day and then dropped, so
/// the limit must be above what it can send.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

impl ServeConfig {
    /// Settings that are allowed but probably wrong, to log at start.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.ack_deadline >= SENDER_DEADLINE {
            warnings.push(format!(
                "PROJECTOR_ACK_DEADLINE_MS is {} ms: AgentSync needs a 2xx within {} s, so a delivery committed later is answered too late and sent again",
                self.ack_deadline.as_millis(),
                SENDER_DEADLINE.as_secs()
            ));
        }
        warnings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn missing_default_secret_names_the_variable() {
        let error = EndpointSecrets::parse(None, None, None).expect_err("missing");
        assert!(error.to_string().contains("PROJECTOR_WEBHOOK_SECRET"));
    }

    #[test]
    fn malformed_secret_names_the_variable_but_not_the_value() {
        let bad = "whsec_NotValidBase64!!";
        let error = EndpointSecrets::parse(Some(SECRET), Some(bad), None).expect_err("bad");
        let text = error.to_string();
        assert!(text.contains("PROJECTOR_WEBHOOK_SECRET_PSAPI"), "{text}");
        assert!(!text.contains("NotValid"), "{text}");
    }

    #[test]
    fn per_path_secret_overrides_the_default() {
        let other = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
        let secrets = EndpointSecrets::parse(Some(SECRET), Some(other), None).expect("valid");
        assert_ne!(secrets.for_endpoint(Endpoint::Psapi), &secrets.default);
        assert_eq!(
            secrets.for_endpoint(Endpoint::Contracting),
            &secrets.default
        );
    }
}
