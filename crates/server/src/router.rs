//! The axum router: every route of the service and the state they share.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use event_store::{LogWriter, Store};
use tower_http::trace::TraceLayer;

use crate::config::ServeConfig;
use crate::error::ApiError;
use crate::graphql::{execute_graphql, serve_graphiql};
use crate::ingest::receive_webhook;
use graphql_api::ProjectorSchema;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<ServeConfig>,
    /// The database, for reads.
    pub store: Store,
    /// The single log writer.
    pub writer: LogWriter,
    /// The GraphQL schema.
    pub schema: ProjectorSchema,
}

/// Builds the service's router.
pub fn build_router(state: AppState) -> Router {
    Router::new()
        .route("/webhooks/{endpoint}", post(receive_webhook))
        .route("/graphql", get(serve_graphiql).post(execute_graphql))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// 200 while the process is up.
async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok")
}

/// 200 when the database answers and every migration is applied; 503
/// otherwise, so a load balancer sends traffic elsewhere.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.check_ready().await {
        Ok(true) => (StatusCode::OK, "ready"),
        Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "migrations pending"),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
