//! GraphQL errors with a stable `extensions.code`. Internal failures are
//! logged here, once, and reach the client only as `INTERNAL`: a bare `?`
//! would leak database messages.

use async_graphql::{Error, ErrorExtensions};

/// The stable codes clients match on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A mutation without the right admin token.
    Unauthorized,
    /// Mutations are off: no admin token is configured.
    MutationsDisabled,
    /// An argument is out of range or malformed.
    InvalidArgument,
    /// A cursor that this server did not issue.
    InvalidCursor,
    /// A rebuild is already running.
    RebuildRunning,
    /// A newer rebuild (elsewhere) finished first; this one was abandoned.
    RebuildSuperseded,
    /// Every subscription permit of this server is taken.
    TooManySubscriptions,
    /// Something failed on the server; details are in its log.
    Internal,
}

impl ErrorCode {
    /// The code as it appears in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthorized => "UNAUTHORIZED",
            Self::MutationsDisabled => "MUTATIONS_DISABLED",
            Self::InvalidArgument => "INVALID_ARGUMENT",
            Self::InvalidCursor => "INVALID_CURSOR",
            Self::RebuildRunning => "REBUILD_RUNNING",
            Self::RebuildSuperseded => "REBUILD_SUPERSEDED",
            Self::TooManySubscriptions => "TOO_MANY_SUBSCRIPTIONS",
            Self::Internal => "INTERNAL",
        }
    }
}

/// Every failure a resolver can report.
#[derive(Debug)]
pub(crate) enum ApiError {
    Unauthorized,
    MutationsDisabled,
    InvalidArgument(String),
    InvalidCursor,
    RebuildRunning,
    RebuildSuperseded,
    TooManySubscriptions(usize),
    Internal(String),
}

impl ApiError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthorized => ErrorCode::Unauthorized,
            Self::MutationsDisabled => ErrorCode::MutationsDisabled,
            Self::InvalidArgument(_) => ErrorCode::InvalidArgument,
            Self::InvalidCursor => ErrorCode::InvalidCursor,
            Self::RebuildRunning => ErrorCode::RebuildRunning,
            Self::RebuildSuperseded => ErrorCode::RebuildSuperseded,
            Self::TooManySubscriptions(_) => ErrorCode::TooManySubscriptions,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Unauthorized => "a valid admin bearer token is required".to_owned(),
            Self::MutationsDisabled => {
                "mutations are disabled: no PROJECTOR_ADMIN_TOKEN is configured".to_owned()
            }
            Self::InvalidArgument(message) => message.clone(),
            Self::InvalidCursor => "the cursor is not one this server issued".to_owned(),
            Self::RebuildRunning => "a rebuild is already running".to_owned(),
            Self::RebuildSuperseded => {
                "a newer rebuild finished first; the projection is current".to_owned()
            }
            Self::TooManySubscriptions(max) => format!(
                "too many subscriptions running on this server (limit {max}); end one and retry"
            ),
            Self::Internal(_) => "internal error; see the server log".to_owned(),
        }
    }
}

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        if let ApiError::Internal(detail) = &error {
            tracing::error!(error = %detail, "GraphQL resolver failed");
        }
        let code = error.code().as_str();
        Error::new(error.message()).extend_with(|_, extensions| extensions.set("code", code))
    }
}

impl From<event_store::StoreError> for ApiError {
    fn from(error: event_store::StoreError) -> Self {
        Self::Internal(error.to_string())
    }
}

impl From<projection::ProjectorError> for ApiError {
    fn from(error: projection::ProjectorError) -> Self {
        match error {
            projection::ProjectorError::RebuildRunning => Self::RebuildRunning,
            projection::ProjectorError::Superseded => Self::RebuildSuperseded,
            other => Self::Internal(other.to_string()),
        }
    }
}

/// The result type of resolvers.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
