//! Running the real app on an ephemeral port with a temporary database,
//! and sending it real signed requests.
//!
//! The suite runs on either backend: a SQLite file in a temporary folder,
//! or, with `PROJECTOR_TEST_DATABASE=postgres`, a new database in a
//! PostgreSQL cluster the suite starts itself (`scripts/test` runs it both
//! ways). Tests of the SQLite file itself use [`sqlite_config`].

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use event_store::{LogEntry, LogFilter, NewEntry, Store, StoreOptions};
use producer_projector::{EndpointSecrets, ServeConfig, serve};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use webhook_verify::{Secret, Signer};

/// The development secret the tests sign with.
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// A second, unrelated secret.
pub const OTHER_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

pub fn secret(text: &str) -> Secret {
    Secret::parse(text).expect("test secrets are valid")
}

/// What signs with `text`: a `whsec_` secret or a `whsk_` signing key.
pub fn signer(text: &str) -> Signer {
    Signer::parse(text).expect("test keys are valid")
}

pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Whether this run of the suite is on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("PROJECTOR_TEST_DATABASE").is_ok_and(|backend| backend == "postgres")
}

/// A config for the database of `dir` on this run's backend (a SQLite file
/// in `dir`, or a PostgreSQL database made for `dir` on first use, so that
/// a test restarting its server finds its data), verifying with
/// [`SECRET`].
pub fn test_config(dir: &tempfile::TempDir) -> ServeConfig {
    static DATABASES: Mutex<BTreeMap<PathBuf, String>> = Mutex::new(BTreeMap::new());
    if !on_postgres() {
        return sqlite_config(dir);
    }
    let mut databases = DATABASES.lock().unwrap_or_else(|p| p.into_inner());
    let url = databases
        .entry(dir.path().to_owned())
        .or_insert_with(test_postgres::database);
    config_for(url.clone())
}

/// A config for a SQLite file in `dir`, whatever the run's backend: for
/// tests of the file itself.
pub fn sqlite_config(dir: &tempfile::TempDir) -> ServeConfig {
    config_for(format!("sqlite://{}", dir.path().join("log.db").display()))
}

/// A config for the database at `database_url`, verifying with [`SECRET`].
pub fn config_for(database_url: String) -> ServeConfig {
    ServeConfig {
        database_url,
        database_tuning: Default::default(),
        secrets: EndpointSecrets::parse(Some(SECRET), None, None).expect("valid"),
        tolerance_secs: 300,
        max_body_bytes: producer_projector::config::DEFAULT_MAX_BODY_BYTES,
        ack_deadline: Duration::from_secs(4),
        admin_token: Some(ADMIN_TOKEN.to_owned()),
        limits: producer_projector::TrafficLimits::default(),
        max_database_pages: None,
    }
}

/// The app, running in this process on 127.0.0.1:0.
pub struct TestServer {
    pub address: SocketAddr,
    pub config: ServeConfig,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    pub async fn start(config: ServeConfig) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind port 0");
        let address = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let run_config = config.clone();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            serve(run_config, listener, shutdown)
                .await
                .expect("serve runs");
        });
        let server = Self {
            address,
            config,
            client: reqwest::Client::new(),
            stop: Some(stop),
            task: Some(task),
        };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&self) {
        for _ in 0..200 {
            let answer = self.client.get(self.url("/healthz")).send().await;
            if answer.is_ok_and(|response| response.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the server did not become healthy");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.expect("server task ends cleanly");
        }
    }

    /// Posts `body` signed with `secret_text` under `webhook_id`, now.
    pub async fn deliver(&self, endpoint: &str, webhook_id: &str, body: &[u8]) -> Answer {
        self.deliver_signed(endpoint, webhook_id, now_secs(), body, SECRET)
            .await
    }

    pub async fn deliver_signed(
        &self,
        endpoint: &str,
        webhook_id: &str,
        timestamp: i64,
        body: &[u8],
        secret_text: &str,
    ) -> Answer {
        let headers = signed_headers(webhook_id, timestamp, body, secret_text);
        self.post_with_headers(endpoint, &headers, body.to_vec())
            .await
    }

    pub async fn post_with_headers(
        &self,
        path: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Answer {
        let mut request = self.client.post(self.url(path)).body(body);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        Answer::from(request.send().await.expect("request is answered")).await
    }

    /// Opens the same database, as another reader would.
    pub async fn store(&self) -> Store {
        Store::open(&StoreOptions::new(self.config.database_url.clone()))
            .await
            .expect("store opens")
    }

    /// Runs `sql` on a connection of the test's own, the way an operator
    /// edits the database from outside the service; returns the first
    /// column of each row it returns, as integers.
    pub async fn sql(&self, sql: &str) -> Vec<i64> {
        use sea_orm::{ConnectionTrait, Database, Statement};
        let db = Database::connect(self.config.database_url.clone())
            .await
            .expect("a connection of the test's own");
        let rows = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("the statement runs");
        let values = rows
            .iter()
            .map(|row| row.try_get_by_index(0).expect("an integer"))
            .collect();
        db.close().await.expect("closed");
        values
    }

    pub async fn log(&self) -> Vec<LogEntry> {
        self.store()
            .await
            .list_entries(&LogFilter::default(), 0, 10_000)
            .await
            .expect("log lists")
    }

    pub fn database_path(&self) -> PathBuf {
        PathBuf::from(
            self.config
                .database_url
                .trim_start_matches("sqlite://")
                .to_owned(),
        )
    }
}

/// An HTTP answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<String>,
    pub json: Value,
}

impl Answer {
    async fn from(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.expect("body reads");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Self {
            status,
            retry_after,
            json,
        }
    }

    pub fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or("")
    }
}

/// A `producersync.npn.activated` envelope for `npn`.
pub fn activated(id: &str, npn: &str) -> Vec<u8> {
    envelope(
        id,
        "producersync.npn.activated",
        "2025-07-24T22:51:05.206Z",
        serde_json::json!({"npn": npn}),
    )
}

/// A WebSocket to the server.
pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/graphql/ws` with the `graphql-transport-ws` protocol; returns
/// the socket and the protocol the server chose.
pub async fn open_socket(server: &TestServer) -> (Socket, Option<String>) {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request = format!("ws://{}/graphql/ws", server.address)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket connects");
    let protocol = response
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (socket, protocol)
}

/// Opens a graphql-transport-ws connection and starts one subscription.
pub async fn subscribe(server: &TestServer, query: &str) -> Socket {
    use futures::SinkExt;
    use serde_json::json;
    use tokio_tungstenite::tungstenite::Message;
    let (mut socket, protocol) = open_socket(server).await;
    assert_eq!(protocol.as_deref(), Some("graphql-transport-ws"));
    socket
        .send(Message::text(
            json!({"type": "connection_init"}).to_string(),
        ))
        .await
        .expect("init");
    assert_eq!(next_message(&mut socket).await["type"], "connection_ack");
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .expect("subscribe");
    socket
}

/// The next message of a socket, which must not be a close.
pub async fn next_message(socket: &mut Socket) -> Value {
    next_frame(socket).await.expect("a message, not a close")
}

/// The next message that is not a ping: a JSON text, or a close frame's
/// code and reason.
pub async fn next_frame(socket: &mut Socket) -> Result<Value, (u16, String)> {
    loop {
        use futures::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message within 5 s")
            .expect("socket open")
            .expect("message");
        match message {
            Message::Text(text) => return Ok(serde_json::from_str(&text).expect("JSON")),
            Message::Close(frame) => {
                let frame = frame.expect("a close frame with a reason");
                return Err((frame.code.into(), frame.reason.to_string()));
            }
            _ => {}
        }
    }
}

/// An envelope body with the given id, type, timestamp and data.
pub fn envelope(id: &str, event_type: &str, timestamp: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "id": id, "type": event_type, "timestamp": timestamp, "data": data
    }))
    .expect("serialises")
}

impl TestServer {
    /// Runs a GraphQL request, with a bearer token when given; returns the
    /// whole answer (`data` and `errors`).
    pub async fn graphql_as(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&serde_json::json!({"query": query, "variables": variables}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("graphql answers");
        response.json().await.expect("graphql answers JSON")
    }

    /// Runs a query that must succeed and returns its `data`.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let answer = self.graphql_as(query, variables, None).await;
        assert!(answer.get("errors").is_none(), "query failed: {answer}");
        answer["data"].clone()
    }
}

/// The admin token the tests configure.
pub const ADMIN_TOKEN: &str = "test-admin-token-1234";

/// Log lines captured from every test in this process (one global
/// subscriber, at debug level, through the service's own filter).
#[derive(Clone, Default)]
pub struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLogs {
    pub fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut bytes) = self.0.lock() {
            bytes.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber once and returns its buffer.
pub fn capture_logs() -> CapturedLogs {
    static LOGS: std::sync::OnceLock<CapturedLogs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(producer_projector::logging::env_filter("debug"))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        logs
    })
    .clone()
}

/// The three Standard Webhooks headers of `body`, signed with `secret_text`
/// (a `whsec_` secret signs `v1`, a `whsk_` key `v1a`).
pub fn signed_headers(
    id: &str,
    timestamp: i64,
    body: &[u8],
    secret_text: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("webhook-id", id.to_owned()),
        ("webhook-timestamp", timestamp.to_string()),
        (
            "webhook-signature",
            signer(secret_text).sign(id, timestamp, body),
        ),
    ]
}

/// Delivers an envelope (webhook id `msg_{id}`) and checks it was answered 200.
pub async fn send(
    server: &TestServer,
    id: &str,
    event_type: &str,
    time: &str,
    data: Value,
) -> Answer {
    let body = envelope(id, event_type, time, data);
    let answer = server
        .deliver("/webhooks/agentsync", &format!("msg_{id}"), &body)
        .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    answer
}

/// Appends a log of `producers × events_per_producer` events over 2025 to
/// the database at `url`, without folding it: each producer is activated
/// and deactivated in turn, with a profile update every fifth event.
pub async fn generate_log(url: &str, producers: usize, events_per_producer: usize) {
    let store = Store::open(&StoreOptions::new(url.to_owned()))
        .await
        .expect("store opens");
    let year_micros: i64 = 365 * 86_400 * 1_000_000;
    let start = 1_735_689_600_000_000i64; // 2025-01-01T00:00:00Z
    let total = producers * events_per_producer;
    let mut batch = Vec::with_capacity(10_000);
    for n in 0..total {
        let npn = 1_000 + n % producers;
        let round = n / producers;
        let event_type = match round {
            r if r % 5 == 4 => "id.producer.updated",
            r if r % 2 == 0 => "producersync.npn.activated",
            _ => "producersync.npn.deactivated",
        };
        let micros = start + (n as i64) * (year_micros / total as i64);
        let time = chrono::DateTime::from_timestamp_micros(micros)
            .expect("in range")
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let body = envelope(
            &format!("e{n}"),
            event_type,
            &time,
            serde_json::json!({"npn": npn.to_string(), "firstName": "Ada"}),
        );
        batch.push(NewEntry::interpreted(
            format!("msg_{n}"),
            micros,
            "/webhooks/agentsync".to_owned(),
            body,
        ));
        if batch.len() == 10_000 || n + 1 == total {
            store
                .append_batch(std::mem::take(&mut batch))
                .await
                .expect("appended");
        }
    }
}
