//! The load generator's HTTP client: one HTTP/1.1 keep-alive connection per
//! worker, over hyper's connection API.
//!
//! The generator shares the machine with the server, so every cycle it
//! spends is one the server does not get. A pooled client (reqwest) checks
//! a connection out and back in, parses the URL and builds a header map on
//! every request; here a worker owns its connection and writes its request
//! straight to it. A connection that fails is dropped and the next request
//! opens a new one (the crash test kills the server under load).

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

/// An answer: whether its status was 2xx, and its body.
pub struct Answer {
    /// 2xx.
    pub success: bool,
    /// The body, as text (lossy).
    pub text: String,
}

/// One connection slot per worker, against one server.
pub struct Http1Clients {
    addr: SocketAddr,
    host: String,
    slots: Vec<Mutex<Option<SendRequest<Full<Bytes>>>>>,
}

impl Http1Clients {
    /// Slots for `workers` workers against the server at `base_url`
    /// (`http://host:port`).
    pub fn new(base_url: &str, workers: usize) -> anyhow::Result<Self> {
        let host = base_url.trim_start_matches("http://").trim_end_matches('/');
        Ok(Self {
            addr: host.parse()?,
            host: host.to_owned(),
            slots: (0..workers).map(|_| Mutex::new(None)).collect(),
        })
    }

    /// `GET path` on `worker`'s connection.
    pub async fn get(&self, worker: usize, path: &str) -> Option<Answer> {
        self.send(worker, Method::GET, path, &[], String::new())
            .await
    }

    /// `POST path` with a JSON `body` and extra `headers` on `worker`'s
    /// connection; `None` when the request could not be sent or answered.
    pub async fn post_json(
        &self,
        worker: usize,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Option<Answer> {
        self.send(worker, Method::POST, path, headers, body).await
    }

    async fn send(
        &self,
        worker: usize,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Option<Answer> {
        let mut slot = self
            .slots
            .get(worker % self.slots.len().max(1))?
            .lock()
            .await;
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.host)
            .header("content-type", "application/json");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder.body(Full::new(Bytes::from(body))).ok()?;
        let answer = self.exchange(&mut slot, request).await;
        if answer.is_none() {
            *slot = None;
        }
        answer
    }

    async fn exchange(
        &self,
        slot: &mut Option<SendRequest<Full<Bytes>>>,
        request: Request<Full<Bytes>>,
    ) -> Option<Answer> {
        if slot.as_ref().is_none_or(|sender| sender.is_closed()) {
            *slot = Some(self.connect().await?);
        }
        let sender = slot.as_mut()?;
        sender.ready().await.ok()?;
        let response = sender.send_request(request).await.ok()?;
        let success = response.status().is_success();
        let body = response.into_body().collect().await.ok()?.to_bytes();
        Some(Answer {
            success,
            text: String::from_utf8_lossy(&body).into_owned(),
        })
    }

    async fn connect(&self) -> Option<SendRequest<Full<Bytes>>> {
        let stream = TcpStream::connect(self.addr).await.ok()?;
        stream.set_nodelay(true).ok()?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.ok()?;
        tokio::spawn(connection);
        Some(sender)
    }
}
