//! Projection and GraphQL: signed events in over HTTP, state out over
//! GraphQL, and rebuilds that change no answer.

use serde_json::{Value, json};

use crate::support::*;

const PRODUCER_QUERY: &str = r#"query($npn: String!) { producer(npn: $npn) {
  npn status lastActivatedAt lastDeactivatedAt firstEventAt lastEventAt eventCount deleted
  profile profileUpdatedAt
  addresses { id updatedAt fields } phones { id fields } bankAccounts { id fields }
  errorsAndOmissions { id fields }
  history(first: 100) { totalCount edges { node { position type folded unfoldedReason payload } } }
} }"#;

async fn producer(server: &TestServer, npn: &str) -> Value {
    server.query(PRODUCER_QUERY, json!({"npn": npn})).await["producer"].clone()
}

#[tokio::test]
async fn each_event_kind_shows_in_the_producer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let npn = json!("19283746");
    send(
        &server,
        "e01",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": npn}),
    )
    .await;
    send(
        &server,
        "e02",
        "id.producer.updated",
        "2025-07-02T00:00:00Z",
        json!({"npn": npn, "firstName": "Ada", "ssn": "123-45-6789"}),
    )
    .await;
    send(
        &server,
        "e03",
        "id.producer.address.updated",
        "2025-07-03T00:00:00Z",
        json!({"npn": npn, "id": "addr_1", "city": "Denver"}),
    )
    .await;
    send(
        &server,
        "e04",
        "id.producer.address.updated",
        "2025-07-03T00:00:00Z",
        json!({"npn": npn, "id": "addr_2", "city": "Boulder"}),
    )
    .await;
    send(
        &server,
        "e05",
        "id.producer.address.deleted",
        "2025-07-04T00:00:00Z",
        json!({"npn": npn, "id": "addr_1"}),
    )
    .await;
    send(
        &server,
        "e06",
        "id.producer.phone.updated",
        "2025-07-05T00:00:00Z",
        json!({"npn": npn, "id": "ph_1", "number": "+1-303-555-0100"}),
    )
    .await;
    send(
        &server,
        "e07",
        "id.producer.phone.deleted",
        "2025-07-06T00:00:00Z",
        json!({"npn": npn, "id": "ph_1"}),
    )
    .await;
    send(
        &server,
        "e08",
        "id.producer.bank_account.updated",
        "2025-07-07T00:00:00Z",
        json!({"npn": npn, "id": "ba_1", "accountNumber": "000123456789"}),
    )
    .await;
    send(
        &server,
        "e09",
        "id.producer.errors_and_omissions.updated",
        "2025-07-08T00:00:00Z",
        json!({"npn": npn, "id": "eo_1", "carrier": "Acme"}),
    )
    .await;
    send(
        &server,
        "e10",
        "id.producer.errors_and_omissions.deleted",
        "2025-07-09T00:00:00Z",
        json!({"npn": npn, "id": "eo_1"}),
    )
    .await;
    send(
        &server,
        "e11",
        "contract.producer_status.updated",
        "2025-07-10T00:00:00Z",
        json!({"npn": npn, "status": "ACTIVE"}),
    )
    .await;
    send(
        &server,
        "e12",
        "producersync.updates_available",
        "2025-07-11T00:00:00Z",
        json!({"runDate": "2025-07-11"}),
    )
    .await;

    let p = producer(&server, "19283746").await;
    assert_eq!(p["status"], "ACTIVE");
    assert_eq!(p["lastActivatedAt"], "2025-07-01T00:00:00+00:00");
    assert_eq!(p["firstEventAt"], "2025-07-01T00:00:00+00:00");
    assert_eq!(p["lastEventAt"], "2025-07-10T00:00:00+00:00");
    assert_eq!(p["eventCount"], 11);
    assert_eq!(p["deleted"], false);
    assert_eq!(p["profile"]["firstName"], "Ada");
    assert_eq!(p["profile"]["ssn"], "•••••••6789");
    assert_eq!(
        p["addresses"],
        json!([{"id": "addr_2", "updatedAt": "2025-07-03T00:00:00+00:00",
        "fields": {"npn": "19283746", "id": "addr_2", "city": "Boulder"}}])
    );
    assert_eq!(p["phones"], json!([]));
    assert_eq!(
        p["bankAccounts"][0]["fields"]["accountNumber"],
        "••••••••6789"
    );
    assert_eq!(p["errorsAndOmissions"], json!([]));
    assert_eq!(p["history"]["totalCount"], 11);

    send(
        &server,
        "e13",
        "id.producer.deleted",
        "2025-07-12T00:00:00Z",
        json!({"npn": npn}),
    )
    .await;
    send(
        &server,
        "e14",
        "producersync.npn.deactivated",
        "2025-07-13T00:00:00Z",
        json!({"npn": npn}),
    )
    .await;
    let p = producer(&server, "19283746").await;
    assert_eq!(
        (p["deleted"].clone(), p["status"].clone()),
        (json!(true), json!("INACTIVE"))
    );
    assert_eq!(p["lastDeactivatedAt"], "2025-07-13T00:00:00+00:00");
    assert_eq!(p["history"]["totalCount"], 13);

    let stats = server
        .query(
            "{ stats { activeCount inactiveCount eventsInLog unfoldedEvents lastRunDate } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stats["stats"],
        json!({"activeCount": 0, "inactiveCount": 1, "eventsInLog": 14,
        "unfoldedEvents": 0, "lastRunDate": "2025-07-11"})
    );
    server.stop().await;
}

#[tokio::test]
async fn deactivation_delivered_first_but_occurring_later_ends_inactive() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    send(
        &server,
        "d",
        "producersync.npn.deactivated",
        "2025-07-02T00:00:00Z",
        json!({"npn": "42"}),
    )
    .await;
    send(
        &server,
        "a",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "42"}),
    )
    .await;
    let p = producer(&server, "42").await;
    assert_eq!(p["status"], "INACTIVE");
    let positions: Vec<&str> = p["history"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        positions,
        ["producersync.npn.deactivated", "producersync.npn.activated"]
    );
    let active = server.query("{ activeNpns }", json!({})).await;
    assert_eq!(active["activeNpns"], json!([]));
    server.stop().await;
}

#[tokio::test]
async fn duplicates_do_not_double_count() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let body = envelope(
        "e_dup",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "7"}),
    );
    for webhook_id in ["msg_1", "msg_1", "msg_2"] {
        assert_eq!(
            server
                .deliver("/webhooks/agentsync", webhook_id, &body)
                .await
                .status,
            200
        );
    }
    let data = server.query(r#"{ producer(npn: "7") { eventCount history { totalCount } } stats { eventsInLog activeCount } }"#, json!({})).await;
    assert_eq!(
        data,
        json!({"producer": {"eventCount": 1, "history": {"totalCount": 1}},
        "stats": {"eventsInLog": 1, "activeCount": 1}})
    );
    server.stop().await;
}

#[tokio::test]
async fn pagination_walks_every_producer_exactly_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    for n in 0..25 {
        let event_type = if n % 3 == 0 {
            "producersync.npn.deactivated"
        } else {
            "producersync.npn.activated"
        };
        send(
            &server,
            &format!("p{n}"),
            event_type,
            "2025-07-01T00:00:00Z",
            json!({"npn": 1000 + n}),
        )
        .await;
    }
    for (status, expected) in [
        (Value::Null, 25),
        (json!("ACTIVE"), 16),
        (json!("INACTIVE"), 9),
    ] {
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let page = server.query(
                "query($s: ProducerStatus, $a: String) { producers(status: $s, first: 7, after: $a) {
                    totalCount pageInfo { hasNextPage endCursor } edges { node { npn status } } } }",
                json!({"s": status, "a": after}),
            ).await["producers"].clone();
            assert_eq!(page["totalCount"], expected);
            for edge in page["edges"].as_array().expect("edges") {
                if !status.is_null() {
                    assert_eq!(edge["node"]["status"], status);
                }
                seen.push(edge["node"]["npn"].as_str().expect("npn").to_owned());
            }
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(seen.len(), expected, "status {status}");
        assert_eq!(sorted, seen, "pages must be in NPN order without repeats");
    }
    let bad_cursor = server
        .graphql_as(
            "{ producers(after: \"nope!\") { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        bad_cursor["errors"][0]["extensions"]["code"],
        "INVALID_CURSOR"
    );
    server.stop().await;
}

/// Every query a dashboard might make, for before/after comparisons.
pub(crate) const EVERYTHING: &str = r#"{
  activeNpns
  producers(first: 100) { totalCount edges { cursor node { npn status lastActivatedAt lastDeactivatedAt
    firstEventAt lastEventAt eventCount deleted profile addresses { id fields } phones { id fields }
    bankAccounts { id fields } errorsAndOmissions { id fields } } } }
  stats { activeCount inactiveCount eventsInLog unfoldedEvents lastRunDate eventsByType { type count } }
  projection { appliedPosition logHead lag codeFoldVersion }
}"#;

/// A server that took 300 random deliveries (seeded by `seed`), with every
/// query's answer and the stored state rows, for before/after comparisons.
async fn projection_of_random_stream(
    seed: u64,
) -> (
    tempfile::TempDir,
    TestServer,
    serde_json::Value,
    Vec<event_store::ProducerRow>,
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    deliver_random_stream(&server, 300, seed).await;
    let before = server.query(EVERYTHING, json!({})).await;
    let rows_before = current_states(&server).await;
    (dir, server, before, rows_before)
}

#[tokio::test]
async fn rebuild_by_mutation_and_by_cli_leaves_every_query_answering_the_same() {
    let (_dir, server, before, rows_before) = projection_of_random_stream(0xC0FFEE).await;

    let rebuilt = server.graphql_as(
        "mutation { rebuildProjection { generation eventsFolded producersWritten durationMs eventsPerSecond } }",
        json!({}), Some(ADMIN_TOKEN)).await;
    assert!(rebuilt.get("errors").is_none(), "{rebuilt}");
    assert_eq!(rebuilt["data"]["rebuildProjection"]["eventsFolded"], 300);
    assert_eq!(server.query(EVERYTHING, json!({})).await, before);
    assert_eq!(
        current_states(&server).await,
        rows_before,
        "rebuilt projection differs from the live one"
    );

    let report = producer_projector::rebuild_offline(&event_store::StoreOptions::new(
        server.config.database_url.clone(),
    ))
    .await
    .expect("cli rebuild");
    assert_eq!(report.events_folded, 300);
    assert_eq!(server.query(EVERYTHING, json!({})).await, before);
    let status = server
        .query(
            "{ projection { generation lastRebuild { eventsFolded producersWritten } } }",
            json!({}),
        )
        .await;
    assert_eq!(status["projection"]["generation"], report.generation);
    assert_eq!(status["projection"]["lastRebuild"]["eventsFolded"], 300);
    server.stop().await;
}

#[tokio::test]
async fn a_rebuild_in_several_passes_gives_the_same_projection_as_one_pass() {
    let (_dir, server, before, rows_before) = projection_of_random_stream(0xFEED).await;
    assert!(
        rows_before.len() > 3,
        "too few producers for several passes"
    );

    let store = server.store().await;
    let projector = projection::Projector::new(store, Default::default());
    let report = projector
        .with_events_per_pass(50)
        .rebuild()
        .await
        .expect("rebuild in passes of about 50 events");
    assert_eq!(report.events_folded, 300);
    assert_eq!(report.producers_written, rows_before.len() as i64);
    assert_eq!(current_states(&server).await, rows_before);
    assert_eq!(server.query(EVERYTHING, json!({})).await, before);
    server.stop().await;
}

#[tokio::test]
async fn entries_folded_from_their_columns_or_their_bodies_rebuild_alike() {
    let (_dir, server, before, rows_before) = projection_of_random_stream(0xB0D1E5).await;
    let store = server.store().await;
    // As delivered, entries whose type says it all are folded from their
    // columns; as a release before the version was stored (`NULL`), or
    // another interpreter version, left them, from their bodies.
    let this_release = agentsync_events::INTERPRETER_VERSION;
    let from_columns = server
        .sql(&format!(
            "SELECT count(*) FROM event_log WHERE columns_suffice_under = {this_release}"
        ))
        .await[0];
    assert!(
        (1..300).contains(&from_columns),
        "ingest marked {from_columns} of 300 entries as said by their columns"
    );
    for version in [Some(this_release), None, Some(this_release + 1)] {
        if version != Some(this_release) {
            let version = version.map_or("NULL".to_owned(), |version| version.to_string());
            server
                .sql(&format!(
                    "UPDATE event_log SET columns_suffice_under = {version}"
                ))
                .await;
        }
        let projector = projection::Projector::new(store.clone(), Default::default());
        let report = projector.rebuild().await.expect("rebuild");
        assert_eq!(report.events_folded, 300);
        assert_eq!(current_states(&server).await, rows_before, "{version:?}");
        assert_eq!(server.query(EVERYTHING, json!({})).await, before);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_producer_lookup_agrees_with_the_producer_pages_across_a_rebuild() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    deliver_random_stream(&server, 120, 0xD1EC7).await;
    let store = server.store().await;
    let both = |npn: String| {
        let store = store.clone();
        async move {
            let looked_up = store.current_producer(&npn).await.expect("lookup");
            let paged = store
                .current_producers_page(None, None, 100_000)
                .await
                .expect("page")
                .into_iter()
                .find(|row| row.npn == npn);
            (looked_up, paged)
        }
    };
    let npns: Vec<String> = current_states(&server)
        .await
        .into_iter()
        .map(|row| row.npn)
        .collect();
    assert!(npns.len() >= 3, "the stream names a few producers");
    let active: Vec<String> = current_states(&server)
        .await
        .into_iter()
        .filter(|row| row.status == "ACTIVE")
        .map(|row| row.npn)
        .collect();
    assert!(!active.is_empty(), "the stream activates someone");
    assert_eq!(
        store
            .current_npns_with_status("ACTIVE")
            .await
            .expect("direct list"),
        active
    );
    for npn in &npns {
        let (direct, pooled) = both(npn.clone()).await;
        assert!(direct.is_some(), "{npn} missing on the direct path");
        assert_eq!(direct, pooled, "{npn}");
    }
    assert_eq!(both("99999999".to_owned()).await, (None, None));

    // After a swap both read the new generation's rows.
    let before = both(npns[0].clone()).await.0.expect("row");
    producer_projector::rebuild_offline(&event_store::StoreOptions::new(
        server.config.database_url.clone(),
    ))
    .await
    .expect("cli rebuild");
    for npn in &npns {
        let (direct, pooled) = both(npn.clone()).await;
        assert_eq!(direct, pooled, "{npn} after the rebuild");
    }
    let after = both(npns[0].clone()).await.0.expect("row");
    assert_eq!(
        without_position(after.clone()),
        without_position(before),
        "a rebuild folds the same state"
    );

    // Deliveries acknowledged after the swap show on the direct path at once.
    deliver_random_stream(&server, 60, 0xBEEF).await;
    let mut changed = 0;
    for npn in &npns {
        let (direct, pooled) = both(npn.clone()).await;
        assert_eq!(direct, pooled, "{npn} after more deliveries");
        changed += usize::from(direct.expect("row").last_position > after.last_position);
    }
    assert!(changed > 0, "the later deliveries changed no producer");
    server.stop().await;
}

/// A row without its generation and its last position folded, which a
/// rebuild takes from entries it cannot fold too.
fn without_position(row: event_store::ProducerRow) -> event_store::ProducerRow {
    event_store::ProducerRow {
        generation: 0,
        last_position: 0,
        ..row
    }
}

/// The current generation's rows, as stored, without their positions.
pub(crate) async fn current_states(server: &TestServer) -> Vec<event_store::ProducerRow> {
    let store = server.store().await;
    store
        .current_producers_page(None, None, 100_000)
        .await
        .expect("rows")
        .into_iter()
        .map(without_position)
        .collect()
}

/// Delivers `count` random events over a few NPNs, with random
/// timestamps (so many arrive out of order) and some retries.
async fn deliver_random_stream(server: &TestServer, count: usize, seed: u64) {
    let types = [
        "producersync.npn.activated",
        "producersync.npn.deactivated",
        "id.producer.updated",
        "id.producer.deleted",
        "id.producer.phone.updated",
        "id.producer.phone.deleted",
        "id.producer.bank_account.updated",
        "producersync.updates_available",
    ];
    let mut state = seed;
    let mut next = move |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % bound
    };
    let mut sent = 0;
    while sent < count {
        let event_type = types[next(types.len() as u64) as usize];
        let npn = 500 + next(12);
        let time = format!("2025-07-{:02}T{:02}:00:00Z", 1 + next(28), next(24));
        let id = format!("r{seed:x}-{sent}");
        let data = json!({"npn": npn.to_string(), "id": format!("rec{}", next(3)), "number": next(1000),
            "accountNumber": "9876543210", "firstName": format!("name{}", next(5)), "runDate": time[..10].to_owned()});
        let body = envelope(&id, event_type, &time, data);
        let answer = server
            .deliver("/webhooks/agentsync", &format!("msg_{id}"), &body)
            .await;
        assert_eq!(answer.json["status"], "accepted");
        if next(5) == 0 {
            let retry = server
                .deliver("/webhooks/agentsync", &format!("msg_{id}"), &body)
                .await;
            assert_eq!(retry.json["status"], "duplicate");
        }
        sent += 1;
    }
}

#[tokio::test]
async fn ingest_keeps_working_during_a_rebuild_and_nothing_is_missed() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A log large enough that the rebuild takes a while: 20,000 imported events.
    let lines: String = (0..20_000)
        .map(|n| {
            let body = envelope(
                &format!("bulk{n}"),
                "producersync.npn.activated",
                "2025-07-01T00:00:00Z",
                json!({"npn": 100_000 + n % 5_000}),
            );
            let body = String::from_utf8(body).expect("utf-8");
            format!(
                "{}\n",
                json!({"webhook_id": format!("msg_bulk{n}"), "timestamp": now_secs(), "body": body})
            )
        })
        .collect();
    let file = dir.path().join("bulk.ndjson");
    std::fs::write(&file, lines).expect("ndjson");
    producer_projector::import::import_file(
        &event_store::StoreOptions::new(test_config(&dir).database_url),
        &file,
    )
    .await
    .expect("import");
    let server = std::sync::Arc::new(TestServer::start(test_config(&dir)).await);
    let rebuild = {
        let server = server.clone();
        tokio::spawn(async move {
            server
                .graphql_as(
                    "mutation { rebuildProjection { eventsFolded } }",
                    json!({}),
                    Some(ADMIN_TOKEN),
                )
                .await
        })
    };
    // Deliver until the rebuild is over, and count the deliveries that were
    // acknowledged and read back while it was still running.
    let (mut n, mut during) = (0, 0);
    while n < 40 || !rebuild.is_finished() {
        let answer = send(
            &server,
            &format!("live{n}"),
            "producersync.npn.activated",
            "2025-08-01T00:00:00Z",
            json!({"npn": 9000 + n}),
        )
        .await;
        assert_eq!(answer.json["status"], "accepted");
        // Read-after-ack: the answer's event is visible at once.
        let read = server
            .query(
                "query($n: String!) { producer(npn: $n) { status } projection { rebuilding } }",
                json!({"n": (9000 + n).to_string()}),
            )
            .await;
        assert_eq!(read["producer"]["status"], "ACTIVE");
        during += usize::from(read["projection"]["rebuilding"] == true);
        n += 1;
    }
    println!("{during} of {n} deliveries overlapped the rebuild");
    assert!(during > 0, "no delivery overlapped the rebuild");
    let rebuilt = rebuild.await.expect("rebuild task");
    assert!(rebuilt.get("errors").is_none(), "{rebuilt}");
    let active = server
        .query("{ activeNpns projection { lag } }", json!({}))
        .await;
    let npns: Vec<&str> = active["activeNpns"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for live in 0..n {
        assert!(
            npns.contains(&(9000 + live).to_string().as_str()),
            "{live} missing after the swap"
        );
    }
    assert_eq!(active["projection"]["lag"], 0);
}

#[tokio::test]
async fn mutations_need_the_admin_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let mutation = "mutation { rebuildProjection { generation } }";
    let wrong_last_char = format!("{}X", &ADMIN_TOKEN[..ADMIN_TOKEN.len() - 1]);
    for token in [None, Some("nope"), Some(wrong_last_char.as_str())] {
        let answer = server.graphql_as(mutation, json!({}), token).await;
        assert_eq!(
            answer["errors"][0]["extensions"]["code"], "UNAUTHORIZED",
            "{token:?}: {answer}"
        );
        assert_eq!(answer["data"], Value::Null);
    }
    let granted = server
        .graphql_as(mutation, json!({}), Some(ADMIN_TOKEN))
        .await;
    assert!(granted.get("errors").is_none(), "{granted}");
    server.stop().await;

    let mut config = test_config(&dir);
    config.admin_token = None;
    let server = TestServer::start(config).await;
    let answer = server
        .graphql_as(mutation, json!({}), Some(ADMIN_TOKEN))
        .await;
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "MUTATIONS_DISABLED"
    );
    server.stop().await;
}

#[tokio::test]
async fn masked_fields_never_appear_in_any_graphql_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let secrets = [
        "123-45-6789",
        "1980-12-10",
        "021000021",
        "000123456789",
        "98-7654321",
    ];
    send(
        &server,
        "s1",
        "id.producer.updated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "77",
        "ssn": secrets[0], "dateOfBirth": secrets[1], "taxId": secrets[4], "firstName": "Ada"}),
    )
    .await;
    send(
        &server,
        "s2",
        "id.producer.bank_account.updated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "77",
        "id": "ba", "routingNumber": secrets[2], "accountNumber": secrets[3]}),
    )
    .await;
    send(
        &server,
        "s3",
        "id.producer.brand_new_kind.updated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "77",
        "nested": {"ssn": secrets[0]}}),
    )
    .await;
    let answers = [
        server.query(PRODUCER_QUERY, json!({"npn": "77"})).await,
        server.query(EVERYTHING, json!({})).await,
        server.query("{ events(first: 100) { edges { node { payload } } } }", json!({})).await,
        server.query(r#"{ events(npn: "77", type: "id.producer.updated") { edges { node { payload } } } }"#, json!({})).await,
    ];
    for answer in answers {
        let text = answer.to_string();
        assert!(
            text.contains("Ada") || text.contains("payload") || text.contains("77"),
            "{text}"
        );
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} leaked: {text}");
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn unfolded_entries_are_visible_and_counted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    send(
        &server,
        "u1",
        "producersync.future_thing",
        "2025-07-01T00:00:00Z",
        json!({"npn": "5"}),
    )
    .await;
    assert_eq!(
        server
            .deliver("/webhooks/agentsync", "msg_raw", b"not json")
            .await
            .status,
        200
    );
    let data = server
        .query(
            r#"{ stats { unfoldedEvents eventsInLog }
        events(first: 10) { edges { node { folded unfoldedReason npn payload } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(
        data["stats"],
        json!({"unfoldedEvents": 2, "eventsInLog": 2})
    );
    let nodes: Vec<Value> = data["events"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(nodes[0]["unfoldedReason"], "unknown_type");
    assert_eq!(nodes[0]["npn"], "5");
    assert_eq!(
        nodes[1],
        json!({"folded": false, "unfoldedReason": "not_json", "npn": null, "payload": null})
    );
    server.stop().await;
}

#[tokio::test]
async fn depth_and_complexity_limits_refuse_abusive_queries() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    let too_many = "{ producers(first: 500) { edges { node { history(first: 500) { edges { node { payload } } } } } } }";
    let answer = server.graphql_as(too_many, json!({}), None).await;
    let message = answer["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("complex"), "{answer}");
    assert_eq!(
        answer["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
        "ofType { ".repeat(9),
        " }".repeat(9)
    );
    let answer = server.graphql_as(&deep, json!({}), None).await;
    let message = answer["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("nested too deep"), "{answer}");
    let too_large_page = server
        .graphql_as(
            "{ producers(first: 100000) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        too_large_page["errors"][0]["extensions"]["code"],
        "INVALID_ARGUMENT"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_a_newer_shadow_generation_and_the_next_rebuild_clears_it() {
    use event_store::ProjectionMeta;
    let dir = tempfile::tempdir().expect("tempdir");
    let server = TestServer::start(test_config(&dir)).await;
    send(
        &server,
        "g1",
        "producersync.npn.activated",
        "2025-07-01T00:00:00Z",
        json!({"npn": "4"}),
    )
    .await;
    server.stop().await;

    // A rebuild running in another process has started generation 7.
    let options = event_store::StoreOptions::new(test_config(&dir).database_url);
    let store = event_store::Store::open(&options)
        .await
        .expect("store opens");
    let current = store
        .current_meta()
        .await
        .expect("meta")
        .expect("a current generation");
    let shadow = ProjectionMeta {
        generation: 7,
        is_current: false,
        started_at: 0,
        ..current.clone()
    };
    store.insert_meta(shadow).await.expect("shadow meta");
    let rows = store
        .load_producers(current.generation, vec!["4".to_owned()])
        .await
        .expect("rows");
    let rows = rows
        .into_iter()
        .map(|row| event_store::ProducerRow {
            generation: 7,
            ..row
        })
        .collect();
    store.upsert_producers(rows).await.expect("shadow rows");

    let server = TestServer::start(test_config(&dir)).await;
    let kept = store
        .load_producers(7, vec!["4".to_owned()])
        .await
        .expect("rows");
    assert_eq!(
        kept.len(),
        1,
        "a start must not delete a newer, possibly running, shadow"
    );
    let rebuilt = server
        .graphql_as(
            "mutation { rebuildProjection { generation } }",
            json!({}),
            Some(ADMIN_TOKEN),
        )
        .await;
    assert_eq!(
        rebuilt["data"]["rebuildProjection"]["generation"], 8,
        "{rebuilt}"
    );
    // The replaced generations are deleted in the background, after the
    // mutation has answered.
    let mut cleared = false;
    for _ in 0..200 {
        let mut left = 0;
        for generation in [current.generation, 7] {
            left += store
                .load_producers(generation, vec!["4".to_owned()])
                .await
                .expect("rows")
                .len();
        }
        if left == 0 {
            cleared = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(cleared, "the swap to 8 removes every older generation");
    assert_eq!(
        server.query("{ activeNpns }", json!({})).await["activeNpns"],
        json!(["4"])
    );
    server.stop().await;
}
