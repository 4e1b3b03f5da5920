//! Prometheus metrics: one recorder per process, rendered at `/metrics`.
//!
//! Names, all prefixed `projector_`:
//! - `deliveries_total{outcome, reason}`: accepted, duplicate, rejected, unavailable
//! - `ingest_duration_seconds` (histogram): arrival to answer
//! - `commit_batch_size` (histogram): deliveries per group commit
//! - `log_head`, `projection_position`, `projection_lag` (gauges, read at scrape)
//! - `rebuild_duration_seconds`, `rebuild_events_per_second` (gauges, last rebuild)
//! - `graphql_requests_total{operation, outcome}`

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

const LATENCY_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];

/// The process's Prometheus handle, installing the recorder on first use.
/// `None` when another recorder was installed first (then `/metrics` says so).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("projector_ingest_duration_seconds".to_owned()),
                    LATENCY_BUCKETS,
                )
                .and_then(|builder| {
                    builder.set_buckets_for_metric(
                        Matcher::Full("projector_commit_batch_size".to_owned()),
                        BATCH_BUCKETS,
                    )
                })
                .and_then(|builder| builder.install_recorder())
                .inspect_err(
                    |error| tracing::warn!(error = %error, "metrics recorder not installed"),
                )
                .ok()
        })
        .as_ref()
}

/// Keeps the exporter's histograms bounded; called periodically.
pub fn run_upkeep() {
    if let Some(handle) = prometheus() {
        handle.run_upkeep();
    }
}
