//! Log lines: one per request (method, path, status, latency, request id),
//! text or JSON. Bodies, headers and query strings are never logged, and
//! database drivers are kept quiet even at debug level, since their
//! statements would carry raw (unmasked) payloads.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderValue, Request, Response};
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Span;
use tracing_subscriber::EnvFilter;

/// Directives always appended to the filter: these targets could print
/// statement parameters (raw bodies) at debug level.
const QUIET_TARGETS: &[&str] = &[
    "sqlx=warn",
    "sea_orm::driver=warn",
    "sea_orm::database=warn",
];

/// The log filter: `RUST_LOG` (or `default`), with the quiet targets forced.
pub fn env_filter(default: &str) -> EnvFilter {
    let base = std::env::var("RUST_LOG").unwrap_or_else(|_| default.to_owned());
    let mut filter = EnvFilter::try_new(&base).unwrap_or_else(|_| EnvFilter::new(default));
    for directive in QUIET_TARGETS {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// Request ids: the process start (hex seconds), a random 32-bit tag and a
/// counter, so ids are unique across restarts and across replicas started
/// in the same second.
#[derive(Clone, Debug)]
pub struct SequentialRequestId {
    prefix: String,
    next: std::sync::Arc<AtomicU64>,
}

impl Default for SequentialRequestId {
    fn default() -> Self {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut tag = [0u8; 4];
        // Without a random source the tag is 0: ids stay unique per
        // process start, as before.
        let tag = getrandom::fill(&mut tag).map_or(0, |()| u32::from_le_bytes(tag));
        Self {
            prefix: format!("{started:x}-{tag:08x}"),
            next: std::sync::Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for SequentialRequestId {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{}-{n}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

/// The span of one request: method, path (no query string) and request id.
pub fn request_span<B>(request: &Request<B>) -> Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}

/// The one line logged per request.
pub fn log_response<B>(response: &Response<B>, latency: Duration, _span: &Span) {
    tracing::info!(
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request finished"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_made_at_once_as_by_two_replicas_give_different_ids() {
        let request = Request::new(());
        let mut ids = std::collections::HashSet::new();
        for _ in 0..50 {
            let mut replica = SequentialRequestId::default();
            for _ in 0..3 {
                let id = replica.make_request_id(&request).expect("an id");
                let text = id.header_value().to_str().expect("text").to_owned();
                assert!(ids.insert(text), "ids repeat across replicas");
            }
        }
    }
}
