//! The runtime that drives every PostgreSQL socket of the process.

use std::future::Future;
use std::sync::OnceLock;

use sea_orm::DbErr;
use tokio::runtime::{Builder, Runtime};

/// One thread, started on first use, that runs the connections'
/// background tasks (reading and writing their sockets) and their
/// connects. It lives as long as the process.
fn runtime() -> Result<&'static Runtime, DbErr> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let runtime = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("postgres-io")
        .enable_all()
        .build()
        .map_err(|error| DbErr::Conn(sea_orm::RuntimeErr::Internal(error.to_string())))?;
    Ok(RUNTIME.get_or_init(|| runtime))
}

/// Runs `task` on the I/O runtime (it may wait on sockets and timers)
/// and blocks the calling thread until it ends.
pub(crate) fn run<T: Send + 'static>(
    task: impl Future<Output = T> + Send + 'static,
) -> Result<T, DbErr> {
    let handle = runtime()?.spawn(task);
    futures::executor::block_on(handle)
        .map_err(|error| DbErr::Conn(sea_orm::RuntimeErr::Internal(error.to_string())))
}

/// Starts `task` on the I/O runtime and leaves it running.
pub(crate) fn spawn(task: impl Future<Output = ()> + Send + 'static) -> Result<(), DbErr> {
    runtime()?.spawn(task);
    Ok(())
}

/// Starts `task` on the I/O runtime; the handle stops it.
pub(crate) fn spawn_abortable(
    task: impl Future<Output = ()> + Send + 'static,
) -> Result<tokio::task::AbortHandle, DbErr> {
    Ok(runtime()?.spawn(task).abort_handle())
}

/// Waits on the calling thread for a future whose work happens elsewhere
/// (a client's request, which the I/O runtime's connection task answers).
pub(crate) fn wait<T>(future: impl Future<Output = T>) -> T {
    futures::executor::block_on(future)
}
