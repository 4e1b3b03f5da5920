//! The one entry point that runs the service on a bound listener.

use std::future::Future;
use std::sync::Arc;

use event_store::{LogWriter, NoHook, Store, StoreError, StoreOptions, WriterOptions};
use tokio::net::TcpListener;

use crate::config::{ConfigError, ServeConfig, ensure_database_folder};
use crate::router::{AppState, build_router};

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened or migrated.
    #[error("cannot open the database: {0}")]
    Store(#[from] StoreError),
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
    ensure_database_folder(&config.database_url)?;
    let store = Store::open(&StoreOptions::new(config.database_url.clone())).await?;
    let writer = LogWriter::start(&store, Arc::new(NoHook), WriterOptions::default());
    let state = AppState {
        config: Arc::new(config),
        store,
        writer,
    };
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "producer-projector is listening");
    }
    axum::serve(listener, build_router(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
