//! `send-example`: sign an example envelope and post it, as the AgentSync
//! portal's "Send Example" button does.

use std::time::{SystemTime, UNIX_EPOCH};

use agentsync_events::{ExampleError, render_example};
use chrono::{SecondsFormat, Utc};
use webhook_verify::Signer;

/// Why an example could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No example of that type.
    #[error(transparent)]
    UnknownType(#[from] ExampleError),
    /// The request failed before an answer came back.
    #[error("the request to {url} failed: {source}")]
    Request {
        /// Where it was sent.
        url: String,
        /// What failed.
        source: reqwest::Error,
    },
}

/// The service's answer.
#[derive(Debug, Clone)]
pub struct SendReport {
    /// The `webhook-id` used.
    pub webhook_id: String,
    /// The HTTP status.
    pub status: u16,
    /// The answer body.
    pub body: String,
}

/// Signs the example of `event_type` (fresh ids and timestamps, optional
/// NPN) with `signer` (`v1` for a `whsec_` secret, `v1a` for a `whsk_`
/// key) and posts it to `url`.
pub async fn send_example(
    url: &str,
    signer: &Signer,
    event_type: &str,
    npn: Option<&str>,
) -> Result<SendReport, SendError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let unique = format!("{:x}{:x}", now.as_nanos(), std::process::id());
    let event_id = format!("whe_{unique}");
    let webhook_id = format!("msg_{unique}");
    let stamp = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    let body = render_example(event_type, &event_id, &stamp, npn)?;
    let timestamp = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let signature = signer.sign(&webhook_id, timestamp, &body);
    let request_failed = |source| SendError::Request {
        url: url.to_owned(),
        source,
    };
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &webhook_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await
        .map_err(request_failed)?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(request_failed)?;
    Ok(SendReport {
        webhook_id,
        status,
        body,
    })
}
