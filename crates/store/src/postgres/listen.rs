//! A connection that listens for the log's append notifications, so that a
//! replica learns at once of the appends other replicas commit.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::Notify;
use tokio_postgres::{AsyncMessage, NoTls};

use super::{PostgresSettings, io};

/// The channel every append transaction notifies (`NOTIFY`, delivered when
/// it commits).
pub(crate) const APPENDS_CHANNEL: &str = "event_log_appended";

/// How long the listener waits before it connects again after losing its
/// connection.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);

/// Listens on [`APPENDS_CHANNEL`] until `stop` is dropped, waking `wake`
/// for each notification, and also each time it has (re)connected: a
/// notification sent while it was not listening is lost, so whoever it
/// wakes reads the log from where it was and finds what was missed.
pub(crate) fn spawn_listener(
    settings: PostgresSettings,
    wake: Arc<Notify>,
) -> Result<tokio::task::AbortHandle, sea_orm::DbErr> {
    io::spawn_abortable(async move {
        loop {
            if let Err(error) = listen(&settings, &wake).await {
                tracing::warn!(
                    error = %error,
                    "the append listener lost its PostgreSQL connection; reconnecting"
                );
            }
            tokio::time::sleep(RECONNECT_AFTER).await;
        }
    })
}

/// One connection's life: `LISTEN`, then a wake per notification until the
/// connection ends.
async fn listen(settings: &PostgresSettings, wake: &Notify) -> Result<(), tokio_postgres::Error> {
    let config = settings.config()?;
    let (client, mut connection) = config.connect(NoTls).await?;
    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    let statement = format!("LISTEN {APPENDS_CHANNEL}");
    let listened = client.batch_execute(&statement);
    tokio::pin!(listened);
    // The connection is driven by polling its messages, so the LISTEN
    // only completes while they are polled too.
    loop {
        tokio::select! {
            done = &mut listened => { done?; break; }
            message = messages.next() => match message {
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => return Ok(()),
            },
        }
    }
    wake.notify_one();
    // The client stays alive (borrowed by the finished LISTEN) while the
    // notifications are read: dropping it would close the connection.
    while let Some(message) = messages.next().await {
        if let AsyncMessage::Notification(_) = message? {
            wake.notify_one();
        }
    }
    Ok(())
}
