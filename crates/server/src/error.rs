//! The one mapping from failures to HTTP answers: status, stable `code`,
//! human message, as JSON. Errors meant for the client say what is wrong;
//! store failures are logged where they happen and answered 503 so the
//! sender retries. No answer is ever 410 (it makes AgentSync disable the
//! endpoint).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use webhook_verify::Rejection;

/// Seconds a sender is asked to wait before retrying after a 503.
const RETRY_AFTER_SECS: &str = "5";

/// Every way a request can fail at the edge.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The verifier refused the delivery.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// A signature header is not visible ASCII.
    #[error("the {0} header is not valid text")]
    HeaderEncoding(&'static str),
    /// The body is over the configured limit.
    #[error("the body is larger than the {limit} bytes allowed")]
    PayloadTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// The body could not be read (the client went away or sent garbage).
    #[error("the request body could not be read")]
    BodyUnreadable,
    /// The store could not commit.
    #[error("the event log cannot accept writes right now; retry later")]
    StoreUnavailable,
    /// The commit did not finish before the answer deadline.
    #[error("the delivery could not be committed within the answer deadline; retry later")]
    DeadlineExceeded,
    /// Too many requests in flight on this route: shed at once so the
    /// sender retries rather than waits past its deadline.
    #[error("the service is at capacity; retry later")]
    Overloaded,
    /// The work was stopped before it finished (the verifying thread
    /// ended, as when the service shuts down).
    #[error("the delivery was interrupted; retry later")]
    Interrupted,
    /// No such route.
    #[error("no such endpoint")]
    NotFound,
    /// The route exists but not for this method.
    #[error("method not allowed on this endpoint")]
    MethodNotAllowed,
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Rejected(rejection) if rejection.is_malformed() => StatusCode::BAD_REQUEST,
            Self::Rejected(_) => StatusCode::UNAUTHORIZED,
            Self::HeaderEncoding(_) | Self::BodyUnreadable => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::StoreUnavailable
            | Self::DeadlineExceeded
            | Self::Overloaded
            | Self::Interrupted => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// Whether the sender's request was refused (400, 401, 413), as opposed
    /// to the service failing it (503) or it not being a delivery (404, 405).
    pub fn is_rejection(&self) -> bool {
        matches!(
            self.status(),
            StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::PAYLOAD_TOO_LARGE
        )
    }

    /// The stable, machine-readable code clients and dashboards match on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rejected(rejection) => rejection_code(rejection),
            Self::HeaderEncoding(_) => "invalid_header_encoding",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::BodyUnreadable => "body_unreadable",
            Self::StoreUnavailable => "store_unavailable",
            Self::DeadlineExceeded => "commit_deadline_exceeded",
            Self::Overloaded => "overloaded",
            Self::Interrupted => "interrupted",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
        }
    }
}

/// The stable code of each verifier rejection.
pub fn rejection_code(rejection: &Rejection) -> &'static str {
    match rejection {
        Rejection::MissingHeader(_) => "missing_header",
        Rejection::InvalidTimestamp => "invalid_timestamp",
        Rejection::MalformedSignatureHeader | Rejection::TooManySignatures { .. } => {
            "malformed_signature"
        }
        Rejection::TimestampTooOld { .. } => "stale_timestamp",
        Rejection::TimestampTooNew { .. } => "future_timestamp",
        Rejection::NoMatchingSignature => "signature_mismatch",
    }
}

#[derive(Serialize)]
struct ErrorBody {
    status: &'static str,
    code: &'static str,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = ErrorBody {
            status: "rejected",
            code: self.code(),
            message: self.to_string(),
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            );
        }
        response
    }
}
