//! A GraphQL subscriber that follows `eventAppended` on one replica slot
//! for the crash test: it reconnects whenever its socket ends (the replica
//! was killed, or replaced), resuming with `afterPosition` at the last
//! position it saw, and records every position it is sent.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// The positions a subscriber saw, in the order it saw them.
pub type Seen = Arc<Mutex<Vec<i64>>>;

/// Where a slot's replica listens now (`http://127.0.0.1:PORT`).
pub type Address = Arc<Mutex<String>>;

/// Follows the replica at `address` until the task is aborted.
pub fn spawn(address: Address, seen: Seen) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let base = address
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            let after = seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .last()
                .copied()
                .unwrap_or(0);
            // An error is the replica going away: connect again.
            let _ = follow(&base, after, &seen).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
}

/// One connection: subscribes after `after` and records positions until
/// the socket ends.
async fn follow(base: &str, after: i64, seen: &Seen) -> anyhow::Result<()> {
    let url = format!("{}/graphql/ws", base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let query = format!("subscription {{ eventAppended(afterPosition: {after}) {{ position }} }}");
    socket
        .send(Message::text(
            json!({"type": "connection_init"}).to_string(),
        ))
        .await?;
    socket
        .send(Message::text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": query}}).to_string(),
        ))
        .await?;
    while let Some(message) = socket.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        let value: Value = serde_json::from_str(&text)?;
        if let Some(position) = value["payload"]["data"]["eventAppended"]["position"].as_i64() {
            seen.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(position);
        }
    }
    Ok(())
}

/// Whether `seen` is exactly `1..=head`, in order.
pub fn saw_every_position_once_in_order(seen: &Seen, head: i64) -> bool {
    let seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
    seen.len() as i64 == head && seen.iter().zip(1..).all(|(seen, want)| *seen == want)
}
