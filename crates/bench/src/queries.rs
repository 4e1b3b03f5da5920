//! Query throughput and latency against a server holding the bulk log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::events::Rng;
use crate::http1::Http1Clients;
use crate::load::{LoadResult, drive};
use crate::server_process::{ADMIN_TOKEN, ServerProcess};

async fn post(
    http: &reqwest::Client,
    url: &str,
    body: &Value,
    token: Option<&str>,
) -> Option<Value> {
    let mut request = http.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let answer: Value = request.send().await.ok()?.json().await.ok()?;
    answer.get("errors").is_none().then_some(answer)
}

/// Drives GraphQL requests built from a random NPN of the dataset at
/// `connections` for `duration`; `request(npn)` gives the JSON body and
/// `answered` checks the answer's text. The load generator shares the
/// machine with the server, so it stays lean: one connection per worker,
/// bodies formatted as text, answers checked without being parsed.
async fn random_npn_load(
    server: &ServerProcess,
    npns: u64,
    connections: usize,
    duration: Duration,
    request: fn(u64) -> String,
    answered: fn(&str) -> bool,
) -> LoadResult {
    let Ok(http) = Http1Clients::new(&server.base_url, connections) else {
        return LoadResult::default();
    };
    let http = Arc::new(http);
    drive(connections, duration, move |worker, sequence| {
        let http = http.clone();
        async move {
            let npn = 1_000_000 + Rng::new((worker as u64) << 40 | sequence).below(npns);
            http.post_json(worker, "/graphql", &[], request(npn))
                .await
                .is_some_and(|answer| {
                    answer.success && !answer.text.contains("\"errors\"") && answered(&answer.text)
                })
        }
    })
    .await
}

/// `producer(npn)` for random NPNs of the dataset.
pub async fn producer_by_npn(
    server: &ServerProcess,
    npns: u64,
    connections: usize,
    duration: Duration,
) -> LoadResult {
    let request = |npn: u64| {
        format!(
            r#"{{"query":"query($n: String!) {{ producer(npn: $n) {{ npn status eventCount lastEventAt profile }} }}","variables":{{"n":"{npn}"}}}}"#
        )
    };
    let answered = |answer: &str| answer.contains(r#"{"data":{"producer":{"npn":""#);
    random_npn_load(server, npns, connections, duration, request, answered).await
}

/// `producers(first: 100)` pages starting after random NPNs.
pub async fn producer_pages(
    server: &ServerProcess,
    npns: u64,
    connections: usize,
    duration: Duration,
) -> LoadResult {
    let request = |npn: u64| {
        let cursor = URL_SAFE_NO_PAD.encode(format!("\"{npn}\""));
        format!(
            r#"{{"query":"query($a: String) {{ producers(first: 100, after: $a) {{ totalCount edges {{ node {{ npn status }} }} }} }}","variables":{{"a":"{cursor}"}}}}"#
        )
    };
    let answered = |answer: &str| answer.contains(r#"{"data":{"producers":{"totalCount":"#);
    random_npn_load(server, npns, connections, duration, request, answered).await
}

/// `activeNpns`, one request at a time; returns the latencies and the count.
pub async fn active_npns(server: &ServerProcess, repeats: usize) -> (LoadResult, usize) {
    let http = reqwest::Client::new();
    let url = format!("{}/graphql", server.base_url);
    let mut result = LoadResult::default();
    let mut count = 0;
    let started = Instant::now();
    for _ in 0..repeats {
        let sent = Instant::now();
        match post(&http, &url, &json!({"query": "{ activeNpns }"}), None).await {
            Some(answer) => {
                result.latencies_us.push(sent.elapsed().as_micros() as u32);
                result.ok += 1;
                count = answer["data"]["activeNpns"].as_array().map_or(0, Vec::len);
            }
            None => result.failed += 1,
        }
    }
    result.seconds = started.elapsed().as_secs_f64();
    result.latencies_us.sort_unstable();
    (result, count)
}

/// Runs `rebuildProjection` and returns its figures.
pub async fn rebuild(server: &ServerProcess) -> Option<Value> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .ok()?;
    let query = json!({"query": "mutation { rebuildProjection { eventsFolded producersWritten durationMs eventsPerSecond } }"});
    let answer = post(
        &http,
        &format!("{}/graphql", server.base_url),
        &query,
        Some(ADMIN_TOKEN),
    )
    .await?;
    Some(answer["data"]["rebuildProjection"].clone())
}
