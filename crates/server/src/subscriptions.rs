//! `/graphql/ws`: GraphQL subscriptions over WebSocket
//! (`graphql-transport-ws` and the older `graphql-ws`). A socket is held
//! open for as long as the client wants, outside the GraphQL request
//! limits, so open sockets are bounded on their own: past the bound a
//! connection is accepted and closed at once with code 1013 ("try again
//! later") and a reason naming the limit. Subscriptions over all sockets
//! are bounded by the schema (see `graphql_api::SubscriptionLimit`).

use std::sync::Arc;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokio::sync::Semaphore;

use crate::router::AppState;

/// The close code for a refused socket: 1013, "try again later".
const TRY_AGAIN_LATER: u16 = 1013;

/// How many sockets may be open at once.
#[derive(Clone, Debug)]
pub struct SocketLimit {
    permits: Arc<Semaphore>,
    max: usize,
}

impl SocketLimit {
    /// A limit of `max` open sockets.
    pub fn new(max: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(max)),
            max,
        }
    }
}

/// Upgrades to a WebSocket and serves subscriptions on it while a socket
/// permit is free; otherwise closes it with a reason.
pub async fn open_subscription_socket(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let permit = state.sockets.permits.clone().try_acquire_owned();
    let max = state.sockets.max;
    let schema = state.schema.clone();
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            match permit {
                Ok(_permit) => {
                    GraphQLWebSocket::new(socket, schema, protocol)
                        .serve()
                        .await
                }
                Err(_) => refuse(socket, max).await,
            }
        })
}

async fn refuse(mut socket: WebSocket, max: usize) {
    tracing::warn!(max, "a subscription socket was refused: too many open");
    let frame = CloseFrame {
        code: TRY_AGAIN_LATER,
        reason: format!(
            "too many subscription connections open on this server (limit {max}); retry later"
        )
        .into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}
