//! `POST /webhooks/{endpoint}`: verify over the raw bytes, interpret, append,
//! and answer only once the event is durably committed.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use event_store::{AppendOutcome, NewEntry};
use http_body_util::LengthLimitError;
use serde::Serialize;
use webhook_verify::{DeliveryHeaders, Rejection, SecretSet, verify};

use crate::config::Endpoint;
use crate::error::ApiError;
use crate::router::AppState;

/// The answer to an accepted or duplicate delivery.
#[derive(Debug, Serialize)]
pub struct Ack {
    status: &'static str,
    position: i64,
}

/// Receives one delivery. The whole of it (reading the body, verifying,
/// committing) runs under the answer deadline: past it the sender gets 503,
/// never a late 200.
pub async fn receive_webhook(
    State(state): State<AppState>,
    Path(endpoint): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Ack>, ApiError> {
    let started = Instant::now();
    let endpoint = Endpoint::from_name(&endpoint).ok_or(ApiError::NotFound)?;
    let deadline = state.config.ack_deadline;
    let result = tokio::time::timeout(deadline, accept_delivery(&state, endpoint, &headers, body))
        .await
        .unwrap_or(Err(ApiError::DeadlineExceeded));
    record_outcome(&state, &result, started);
    result
}

/// Counts the delivery's outcome (metrics, and the rejection table for
/// refusals) and its latency.
fn record_outcome(state: &AppState, result: &Result<Json<Ack>, ApiError>, started: Instant) {
    metrics::histogram!("projector_ingest_duration_seconds")
        .record(started.elapsed().as_secs_f64());
    let (outcome, reason) = match result {
        Ok(ack) => (ack.status, "none"),
        Err(error) if error.is_rejection() => {
            state.rejections.record(error.code(), now_micros());
            ("rejected", error.code())
        }
        Err(error) => ("unavailable", error.code()),
    };
    metrics::counter!("projector_deliveries_total", "outcome" => outcome, "reason" => reason)
        .increment(1);
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

async fn accept_delivery(
    state: &AppState,
    endpoint: Endpoint,
    headers: &HeaderMap,
    body: Body,
) -> Result<Json<Ack>, ApiError> {
    let limit = state.config.max_body_bytes;
    if declared_length(headers).is_some_and(|length| length > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let body = read_body(body, limit).await?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let delivery_headers = DeliveryHeaders {
        id: header_text(headers, "webhook-id", "svix-id")?,
        timestamp: header_text(headers, "webhook-timestamp", "svix-timestamp")?,
        signature: header_text(headers, "webhook-signature", "svix-signature")?,
    };
    let check = SignatureCheck {
        secrets: state.config.secrets.for_endpoint(endpoint),
        now_secs: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        tolerance_secs: state.config.tolerance_secs,
    };
    let received_at = i64::try_from(now.as_micros()).unwrap_or(i64::MAX);
    let entry = verify_and_interpret(check, delivery_headers, body, endpoint, received_at).await?;
    let outcome = state
        .writer
        .append(entry)
        .await
        .map_err(|_| ApiError::StoreUnavailable)?;
    let ack = match outcome {
        AppendOutcome::Appended(position) => Ack {
            status: "accepted",
            position,
        },
        AppendOutcome::Duplicate(position) => Ack {
            status: "duplicate",
            position,
        },
    };
    Ok(Json(ack))
}

/// Bodies up to this size are verified and interpreted on the async
/// worker: hashing 64 KiB takes well under a millisecond per key. Larger
/// ones are handled on a blocking thread, so a flood of large unsigned
/// bodies cannot starve other requests (or the answer deadline, which
/// cannot interrupt a computation on a worker).
const INLINE_MAX_BYTES: usize = 64 * 1024;

/// What a delivery is verified against.
#[derive(Clone, Copy)]
struct SignatureCheck<'a> {
    secrets: &'a SecretSet,
    now_secs: i64,
    tolerance_secs: u64,
}

/// Verifies a delivery and, once it is authentic, interprets it into the
/// entry to append; a large body is handled on a blocking thread. The
/// verifier's own bound on signature entries keeps verification to one
/// pass over the body per configured key.
async fn verify_and_interpret(
    check: SignatureCheck<'_>,
    headers: DeliveryHeaders<'_>,
    body: bytes::Bytes,
    endpoint: Endpoint,
    received_at: i64,
) -> Result<NewEntry, ApiError> {
    let (now_secs, tolerance_secs) = (check.now_secs, check.tolerance_secs);
    let run = move |headers: DeliveryHeaders<'_>, body: bytes::Bytes, secrets: &SecretSet| {
        let verified = verify(headers, &body, secrets, now_secs, tolerance_secs)?;
        Ok::<_, Rejection>(NewEntry::interpreted(
            verified.webhook_id,
            received_at,
            endpoint.path(),
            body.to_vec(),
        ))
    };
    if body.len() <= INLINE_MAX_BYTES {
        return Ok(run(headers, body, check.secrets)?);
    }
    let owned = OwnedHeaders::from(headers);
    let secrets = check.secrets.clone();
    let entry = tokio::task::spawn_blocking(move || run(owned.borrowed(), body, &secrets))
        .await
        .map_err(|_| ApiError::Interrupted)?;
    Ok(entry?)
}

/// The three header values, owned, to move to a blocking thread.
struct OwnedHeaders {
    id: Option<String>,
    timestamp: Option<String>,
    signature: Option<String>,
}

impl From<DeliveryHeaders<'_>> for OwnedHeaders {
    fn from(headers: DeliveryHeaders<'_>) -> Self {
        Self {
            id: headers.id.map(str::to_owned),
            timestamp: headers.timestamp.map(str::to_owned),
            signature: headers.signature.map(str::to_owned),
        }
    }
}

impl OwnedHeaders {
    fn borrowed(&self) -> DeliveryHeaders<'_> {
        DeliveryHeaders {
            id: self.id.as_deref(),
            timestamp: self.timestamp.as_deref(),
            signature: self.signature.as_deref(),
        }
    }
}

async fn read_body(body: Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    match to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(error) if is_length_limit(&error) => Err(ApiError::PayloadTooLarge { limit }),
        Err(_) => Err(ApiError::BodyUnreadable),
    }
}

/// The body length the request declares, if it declares one.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(axum::http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Whether reading failed because the body passed the limit (the error is
/// wrapped a few layers deep by axum and http-body-util).
fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<LengthLimitError>() {
            return true;
        }
        source = current.source();
    }
    false
}

/// A header's value under its Standard Webhooks name or its `svix-` name.
fn header_text<'a>(
    headers: &'a HeaderMap,
    name: &'static str,
    svix_name: &'static str,
) -> Result<Option<&'a str>, ApiError> {
    let Some(value) = headers.get(name).or_else(|| headers.get(svix_name)) else {
        return Ok(None);
    };
    value
        .to_str()
        .map(Some)
        .map_err(|_| ApiError::HeaderEncoding(name))
}
