//! The one entry point that runs the service on a bound listener.

use std::future::Future;
use std::sync::Arc;

use event_store::{LogWriter, Store, StoreError, StoreOptions, WriterOptions};
use graphql_api::{ApiContext, SubscriptionLimit, build_schema};
use projection::{ChangeFeed, LiveFold, Projector, ProjectorError, RebuildReport};
use tokio::net::TcpListener;

use crate::config::{ConfigError, ServeConfig};
use crate::metrics;
use crate::rejections::RejectionRecorder;
use crate::router::{AppParts, AppState, build_router};
use crate::subscriptions::SocketLimit;

/// How often refused-delivery counts are written to the store.
const REJECTION_FLUSH_PERIOD: std::time::Duration = std::time::Duration::from_millis(500);

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
    /// The projection could not be prepared or rebuilt.
    #[error("cannot prepare the projection: {0}")]
    Projection(#[from] ProjectorError),
    /// The HTTP server failed.
    #[error("the HTTP server failed: {0}")]
    Http(#[from] std::io::Error),
}

/// Opens the store, starts the log writer and serves HTTP on `listener`
/// until `shutdown` resolves; in-flight requests are finished first.
pub async fn serve(
    config: ServeConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    let mut options = config.database_tuning.options(&config.database_url);
    options.max_page_count = config.max_database_pages;
    let store = Store::open(&options).await?;
    let feed = ChangeFeed::default();
    let live_fold = Arc::new(LiveFold::new(feed.clone()));
    let writer = LogWriter::start(&store, live_fold, WriterOptions::default())?;
    // Feeds the subscriptions from the log, whichever replica appended.
    let _follower = feed.follow(store.clone()).await?;
    let projector = Projector::new(store.clone(), writer.gate());
    // Serves at once, from the previous generation while a new fold
    // version rebuilds in the background (see `prepare_to_serve`).
    projector.prepare_to_serve().await?;
    let schema = build_schema(ApiContext {
        store: store.clone(),
        projector: projector.clone(),
        feed,
        subscriptions: SubscriptionLimit::new(config.limits.max_subscriptions),
    });
    metrics::prometheus();
    let rejections = RejectionRecorder::default();
    let flusher = rejections.spawn_flusher(store.clone(), REJECTION_FLUSH_PERIOD);
    let sockets = SocketLimit::new(config.limits.max_ws_connections);
    let state = AppState::new(AppParts {
        config: Arc::new(config),
        store: store.clone(),
        writer,
        schema,
        projector,
        rejections: rejections.clone(),
        sockets,
    });
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "producer-projector is listening");
    }
    let served = axum::serve(listener, build_router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    flusher.abort();
    rejections.flush(&store).await;
    served?;
    Ok(())
}

/// Rebuilds the projection of the database `options` name from this
/// process (the `rebuild` command). Safe while servers run on the same
/// database: it takes the rebuild lease like theirs, and its final
/// catch-up and swap hold the database's write lock.
pub async fn rebuild_offline(options: &StoreOptions) -> Result<RebuildReport, ServeError> {
    let store = Store::open(options).await?;
    let projector = Projector::new(store, Default::default());
    let report = projector.rebuild().await?;
    projector.retired().await;
    Ok(report)
}
