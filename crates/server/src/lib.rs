//! The `producer-projector` service, last stage of the line
//! verify → append → fold → serve: configuration, the CLI's commands, the
//! axum router and the one [`serve`] entry point that takes an already
//! bound listener (so tests run the real thing on port 0).

pub mod cli;
pub mod config;
pub mod copy;
mod error;
mod graphiql;
mod graphql;
pub mod import;
mod ingest;
pub mod logging;
pub mod metrics;
mod rejections;
mod router;
pub mod send_example;
mod serve;
mod status_page;
mod subscriptions;

pub use config::{DatabaseTuning, Endpoint, EndpointSecrets, ServeConfig, TrafficLimits};
pub use error::ApiError;
pub use serve::{ServeError, rebuild_offline, serve};
