//! The subscription root, served over WebSocket at `/graphql/ws`. Changes
//! come from the projection's [`ChangeFeed`](projection::ChangeFeed), which
//! reads them from the log by position once committed (by this replica or
//! any other on the same database), so a subscriber never sees a change
//! that could still be rolled back, and sees each once, in order.

use std::sync::Arc;

use async_graphql::{Context, Subscription};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::ApiContext;
use crate::error::ApiError;
use crate::types::{Event, Producer};

/// Every subscription.
pub struct SubscriptionRoot;

/// How many subscriptions may run at once over all sockets: each holds a
/// receiver of the change feed and a task's worth of memory, and a socket
/// may start many.
#[derive(Clone, Debug)]
pub struct SubscriptionLimit {
    permits: Arc<Semaphore>,
    max: usize,
}

impl SubscriptionLimit {
    /// A limit of `max` subscriptions.
    pub fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// A permit held by the subscription's stream for as long as it runs,
    /// or `TOO_MANY_SUBSCRIPTIONS` when all are taken.
    fn acquire(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::TooManySubscriptions(self.max))
    }
}

/// Keeps `permit` for as long as `stream` is consumed.
fn holding<S: Stream>(permit: OwnedSemaphorePermit, stream: S) -> impl Stream<Item = S::Item> {
    stream.map(move |item| {
        let _held = &permit;
        item
    })
}

/// A broadcast receiver as a stream; a subscriber that falls too far behind
/// skips what it missed rather than ending.
fn receive<T: Clone + Send + 'static>(receiver: broadcast::Receiver<T>) -> impl Stream<Item = T> {
    futures::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok(item) => return Some((item, receiver)),
                Err(RecvError::Lagged(skipped)) => {
                    tracing::warn!(skipped, "a subscriber fell behind and skipped changes");
                }
                Err(RecvError::Closed) => return None,
            }
        }
    })
}

#[Subscription]
impl SubscriptionRoot {
    /// A producer's new state whenever an event changes it (every producer
    /// when `npn` is omitted).
    async fn producer_changed(
        &self,
        ctx: &Context<'_>,
        npn: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = Producer>> {
        let api = ctx.data::<ApiContext>()?;
        let npn = npn
            .as_deref()
            .map(crate::query::normalise_argument)
            .transpose()?;
        let permit = api.subscriptions.acquire()?;
        let changes = receive(api.feed.subscribe_changes())
            .filter(move |change| std::future::ready(npn.as_ref().is_none_or(|n| *n == change.npn)))
            .map(|change| Producer {
                npn: change.npn,
                state: change.state,
            });
        Ok(holding(permit, changes))
    }

    /// Each new log entry (of these types, when given), in position order.
    /// With `afterPosition`, the entries after that position come first,
    /// read from the log: a client that reconnects passes the last position
    /// it saw and misses nothing.
    async fn event_appended(
        &self,
        ctx: &Context<'_>,
        types: Option<Vec<String>>,
        after_position: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = Event>> {
        let api = ctx.data::<ApiContext>()?;
        if after_position.is_some_and(|position| position < 0) {
            return Err(ApiError::InvalidArgument("afterPosition must be 0 or more".into()).into());
        }
        let permit = api.subscriptions.acquire()?;
        let entries = api
            .feed
            .entries_after(api.store.clone(), after_position)
            .await
            .map_err(ApiError::from)?;
        let appended = entries
            .filter(move |entry| {
                let wanted = types.as_ref().is_none_or(|types| {
                    entry.event_type.as_ref().is_some_and(|t| types.contains(t))
                });
                std::future::ready(wanted)
            })
            .map(Event);
        Ok(holding(permit, appended))
    }
}
