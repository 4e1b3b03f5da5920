//! The axum router: every route of the service and the state they share.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use event_store::{LogWriter, Store};
use projection::{FOLD_VERSION, Projector};
use tokio::sync::Semaphore;
use tower::ServiceBuilder;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::ServeConfig;
use crate::error::ApiError;
use crate::graphiql::{serve_graphiql, serve_graphiql_asset};
use crate::graphql::execute_graphql;
use crate::ingest::receive_webhook;
use crate::logging::{SequentialRequestId, log_response, request_span};
use crate::metrics::prometheus;
use crate::rejections::RejectionRecorder;
use crate::status_page::show_status_page;
use crate::subscriptions::{SocketLimit, open_subscription_socket};
use graphql_api::ProjectorSchema;

/// What every handler can reach, shared: axum clones the state for every
/// request, so it is one reference count to bump, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl AppState {
    /// Shares `parts` with every handler.
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct AppParts {
    /// The validated configuration.
    pub config: Arc<ServeConfig>,
    /// The database, for reads.
    pub store: Store,
    /// The single log writer.
    pub writer: LogWriter,
    /// The GraphQL schema.
    pub schema: ProjectorSchema,
    /// The projection's controller.
    pub projector: Projector,
    /// Refused deliveries, counted.
    pub rejections: RejectionRecorder,
    /// Open WebSocket connections, bounded.
    pub sockets: SocketLimit,
}

/// Refuses a request at once with 503 `overloaded` and `Retry-After` when
/// its route already serves as many requests as it has permits, so a flood
/// gets fast refusals instead of answers later than the sender waits.
async fn shed_when_full(
    State(permits): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    match permits.try_acquire() {
        Ok(_permit) => next.run(request).await,
        Err(_) => ApiError::Overloaded.into_response(),
    }
}

/// Builds the service's router.
pub fn build_router(state: AppState) -> Router {
    let limits = state.config.limits;
    // One limit for both spellings of a webhook path: the sender does not
    // normalise URLs, so a registration with a trailing slash must work.
    let deliveries = post(receive_webhook).layer(from_fn_with_state(
        Arc::new(Semaphore::new(limits.max_inflight_deliveries)),
        shed_when_full,
    ));
    Router::new()
        .route("/webhooks/{endpoint}", deliveries.clone())
        .route("/webhooks/{endpoint}/", deliveries)
        .route("/", get(show_status_page))
        .route(
            "/graphql",
            get(serve_graphiql).post(execute_graphql).layer(
                ServiceBuilder::new()
                    .layer(from_fn_with_state(
                        Arc::new(Semaphore::new(limits.max_inflight_graphql)),
                        shed_when_full,
                    ))
                    .layer(RequestBodyLimitLayer::new(limits.max_graphql_body_bytes))
                    .layer(TimeoutLayer::with_status_code(
                        StatusCode::SERVICE_UNAVAILABLE,
                        limits.graphql_timeout,
                    )),
            ),
        )
        .route("/assets/graphiql/{file}", get(serve_graphiql_asset))
        .route("/graphql/ws", get(open_subscription_socket))
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(
                    SequentialRequestId::default(),
                ))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_request(())
                        .on_response(log_response),
                )
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}

/// 200 while the process is up.
async fn healthz() -> (StatusCode, &'static str) {
    (StatusCode::OK, "ok")
}

/// 200 when the database answers, every migration is applied, and the
/// projection is caught up with the log and not mid-swap; 503 otherwise, so
/// a load balancer sends traffic elsewhere. While a new fold version is
/// rebuilt at start, the previous generation serves, caught up: 200, and
/// the body says so.
async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match readiness(&state).await {
        Ok(ready) => (StatusCode::OK, ready),
        Err(reason) => (StatusCode::SERVICE_UNAVAILABLE, reason),
    }
}

async fn readiness(state: &AppState) -> Result<&'static str, &'static str> {
    let unreachable = |error: &dyn std::fmt::Display| {
        tracing::warn!(error = %error, "readiness check failed");
        "database unreachable"
    };
    match state.store.check_ready().await {
        Ok(true) => {}
        Ok(false) => return Err("migrations pending"),
        Err(error) => return Err(unreachable(&error)),
    }
    if state.projector.is_swapping() {
        return Err("projection swap in progress");
    }
    // The head first (see the `projection` query).
    let head = state.store.log_head().await.map_err(|e| unreachable(&e))?;
    let meta = state
        .projector
        .current_meta()
        .await
        .map_err(|e| unreachable(&e))?;
    let Some(meta) = meta else {
        return Err("no projection yet");
    };
    match meta.fold_version.cmp(&FOLD_VERSION) {
        // A rolling upgrade: the newer release's replicas fold it.
        std::cmp::Ordering::Greater => Ok(
            "ready; serving the projection a newer release built (a rolling upgrade is under way)",
        ),
        std::cmp::Ordering::Equal if meta.applied_position < head => {
            Err("projection behind the log")
        }
        std::cmp::Ordering::Equal => Ok("ready"),
        std::cmp::Ordering::Less => {
            let rebuilding = state
                .projector
                .is_rebuilding_anywhere()
                .await
                .map_err(|e| unreachable(&e))?;
            if rebuilding {
                Ok(
                    "ready; rebuilding the projection for this release's fold version, \
                    answering from the previous generation until the swap",
                )
            } else {
                Err("projection built by another fold version; run a rebuild")
            }
        }
    }
}

/// Prometheus text; the log and projection gauges are read at scrape time.
async fn render_metrics(State(state): State<AppState>) -> Response {
    if let Ok(head) = state.store.log_head().await {
        metrics::gauge!("projector_log_head").set(head as f64);
        if let Ok(Some(meta)) = state.projector.current_meta().await {
            metrics::gauge!("projector_projection_position").set(meta.applied_position as f64);
            metrics::gauge!("projector_projection_lag").set((head - meta.applied_position) as f64);
        }
    }
    match prometheus() {
        Some(handle) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            handle.render(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable",
        )
            .into_response(),
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
