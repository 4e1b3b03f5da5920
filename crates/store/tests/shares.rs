//! A rebuild's reads of the log: the SQL filter and `NpnShare::holds`
//! agree, the shares split the log exactly, and the entries whose columns
//! suffice come without their bodies.

use event_store::{
    ColumnsSuffice, LogFilter, NewEntry, NpnShare, RebuildRead, RowContent, Store, StoreOptions,
    StoredColumns,
};

fn entry(n: usize, npn: Option<&str>) -> NewEntry {
    let data = match npn {
        Some(npn) => format!(r#"{{"npn":"{npn}"}}"#),
        None => r#"{"runDate":"2025-07-24"}"#.to_owned(),
    };
    let body = format!(
        r#"{{"id":"e{n}","type":"producersync.npn.activated","timestamp":"2025-07-01T00:00:00Z","data":{data}}}"#
    );
    NewEntry::interpreted(
        format!("msg_{n}"),
        1,
        "agentsync".to_owned(),
        body.into_bytes(),
    )
}

#[tokio::test]
async fn every_entry_is_in_exactly_the_share_holds_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("log.db").display());
    let store = Store::open(&StoreOptions::new(url)).await.expect("opens");
    let npns = [
        Some("0"),
        Some("1"),
        Some("2"),
        Some("9"),
        Some("10"),
        Some("19283746"),
        Some("9999999999"),
        None,
        Some("4"),
        None,
    ];
    let entries: Vec<NewEntry> = npns
        .iter()
        .enumerate()
        .map(|(n, npn)| entry(n, *npn))
        .collect();
    store.append_batch(entries).await.expect("appended");
    let head = store.log_head().await.expect("head");

    for of in [1, 2, 3, 7] {
        let mut seen = Vec::new();
        for index in 0..of {
            let share = NpnShare { index, of };
            // Pages of two, as a rebuild reads pages.
            let mut after = 0;
            loop {
                let page = store
                    .entries_in_order(RebuildRead {
                        after,
                        until: head,
                        share,
                        columns: None,
                        limit: 2,
                    })
                    .await
                    .expect("page");
                let Some(last) = page.last() else { break };
                after = last.position;
                for row in page {
                    assert!(share.holds(row.npn.as_deref()), "{row:?} in {share:?}");
                    seen.push(row.position);
                }
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (1..=head).collect::<Vec<_>>(), "{of} shares");
    }
}

#[tokio::test]
async fn bodies_are_read_back_by_position_one_or_many() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("log.db").display());
    let store = Store::open(&StoreOptions::new(url)).await.expect("opens");
    let entries: Vec<NewEntry> = (0..5).map(|n| entry(n, Some("7"))).collect();
    let bodies: Vec<Vec<u8>> = entries.iter().map(|e| e.body.clone()).collect();
    store.append_batch(entries).await.expect("appended");

    let one = store.bodies_at(&[3]).await.expect("one body");
    assert_eq!(one, vec![(3, bodies[2].clone())]);
    let many = store.bodies_at(&[5, 1, 4]).await.expect("several bodies");
    assert_eq!(
        many,
        vec![
            (1, bodies[0].clone()),
            (4, bodies[3].clone()),
            (5, bodies[4].clone())
        ]
    );
    assert_eq!(store.bodies_at(&[]).await.expect("none"), vec![]);
    assert_eq!(store.bodies_at(&[99]).await.expect("absent"), vec![]);
}

fn envelope(n: usize, event_type: &str, data: &str) -> NewEntry {
    let body = format!(
        r#"{{"id":"e{n}","type":"{event_type}","timestamp":"2025-07-01T00:00:0{n}Z","data":{data}}}"#
    );
    NewEntry::interpreted(
        format!("msg_{n}"),
        1,
        "agentsync".to_owned(),
        body.into_bytes(),
    )
}

#[tokio::test]
async fn the_columns_suffice_for_understood_entries_but_profiles_and_run_dates() {
    let version = agentsync_events::INTERPRETER_VERSION;
    let address = "id.producer.address.updated";
    let cases = [
        ("producersync.npn.activated", r#"{"npn":"7"}"#, true, None),
        ("producersync.npn.deactivated", r#"{"npn":"7"}"#, true, None),
        ("contract.updated", r#"{"npn":"7"}"#, true, None),
        (
            "id.producer.phone.deleted",
            r#"{"npn":"7","id":"ph_1"}"#,
            true,
            Some("ph_1"),
        ),
        (
            address,
            r#"{"npn":"7","id":"a","city":"X"}"#,
            true,
            Some("a"),
        ),
        (address, r#"{"npn":"7","city":"X"}"#, false, None),
        ("producersync.npn.activated", r#"{"npn":"x"}"#, false, None),
        ("id.producer.updated", r#"{"npn":"7"}"#, false, None),
        (
            "producersync.updates_available",
            r#"{"runDate":"2025-07-24"}"#,
            false,
            None,
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("log.db").display());
    let store = Store::open(&StoreOptions::new(url)).await.expect("opens");
    let entries = cases
        .iter()
        .enumerate()
        .map(|(n, (event_type, data, ..))| envelope(n, event_type, data))
        .collect();
    store.append_batch(entries).await.expect("appended");
    let stored = store
        .list_entries(&LogFilter::default(), 0, 100)
        .await
        .expect("listed");
    assert_eq!(stored.len(), cases.len());
    for ((event_type, data, suffice, record_id), entry) in cases.iter().zip(&stored) {
        let case = format!("{event_type} {data}");
        assert_eq!(
            entry.columns_suffice_under,
            suffice.then_some(version),
            "{case}"
        );
        assert_eq!(entry.record_id.as_deref(), *record_id, "{case}");
    }
}

#[tokio::test]
async fn entries_whose_columns_suffice_under_the_version_asked_for_come_without_bodies() {
    const ACTIVATED: &str = "producersync.npn.activated";
    let columns = ColumnsSuffice {
        interpreter_version: 3,
    };
    let under = |mut entry: NewEntry, version| {
        entry.columns_suffice_under = version;
        entry
    };
    const PHONE: &str = "id.producer.phone.updated";
    let entries = vec![
        under(envelope(1, ACTIVATED, r#"{"npn":"7"}"#), Some(3)),
        under(envelope(2, PHONE, r#"{"npn":"7","id":"ph_2"}"#), Some(3)),
        under(envelope(3, ACTIVATED, r#"{"npn":"7"}"#), None),
        under(envelope(4, ACTIVATED, r#"{"npn":"7"}"#), Some(2)),
    ];
    let bodies: Vec<Vec<u8>> = entries.iter().map(|e| e.body.clone()).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("log.db");
    let file = format!("sqlite://{}", path.display());
    let store = Store::open(&StoreOptions::new(&file)).await.expect("opens");
    store.append_batch(entries).await.expect("appended");
    let first_four = |columns| RebuildRead {
        after: 0,
        until: 4,
        share: NpnShare { index: 0, of: 1 },
        columns,
        limit: 10,
    };
    {
        let url = &file;
        let rows = store
            .entries_in_order(first_four(Some(columns)))
            .await
            .expect("read");
        assert_eq!(rows.len(), 4, "{url}");
        assert_eq!(
            rows[0].content,
            RowContent::Columns(StoredColumns::new(
                ACTIVATED,
                "e1",
                Some(1_751_328_001_000_000),
                String::new(),
            )),
            "{url}"
        );
        assert_eq!(rows[0].npn.as_deref(), Some("7"));
        assert_eq!(
            rows[1].content,
            RowContent::Columns(StoredColumns::new(
                PHONE,
                "e2",
                Some(1_751_328_002_000_000),
                "ph_2".to_owned(),
            )),
            "{url}"
        );
        for (row, body) in rows.iter().zip(&bodies).skip(2) {
            assert_eq!(row.content, RowContent::Body(body.clone()), "{url}");
        }
        let without = store
            .entries_in_order(first_four(None))
            .await
            .expect("read");
        assert_eq!(
            without[0].content,
            RowContent::Body(bodies[0].clone()),
            "{url}"
        );
    }
}

#[tokio::test]
async fn an_entry_read_from_its_columns_keeps_its_ids_whole_whatever_they_hold() {
    let body = r#"{"id":"e\u001f9\u001f","type":"id.producer.phone.updated","timestamp":"2025-07-01T00:00:09Z","data":{"npn":"7","id":"ph\u001f1"}}"#;
    let entry = NewEntry::interpreted(
        "msg_9".to_owned(),
        1,
        "agentsync".to_owned(),
        body.as_bytes().to_vec(),
    );
    let version = agentsync_events::INTERPRETER_VERSION;
    assert_eq!(entry.columns_suffice_under, Some(version));
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("log.db").display());
    let store = Store::open(&StoreOptions::new(&url)).await.expect("opens");
    store.append_batch(vec![entry]).await.expect("appended");
    let rows = store
        .entries_in_order(RebuildRead {
            after: 0,
            until: 1,
            share: NpnShare { index: 0, of: 1 },
            columns: Some(ColumnsSuffice {
                interpreter_version: version,
            }),
            limit: 10,
        })
        .await
        .expect("read");
    let [row] = rows.as_slice() else {
        panic!("one row: {rows:?}");
    };
    let RowContent::Columns(columns) = &row.content else {
        panic!("read from its columns: {row:?}");
    };
    assert_eq!(columns.event_type(), "id.producer.phone.updated");
    assert_eq!(columns.event_id(), "e\u{1f}9\u{1f}");
    assert_eq!(columns.record_id, "ph\u{1f}1");
    assert_eq!(columns.occurred_at, Some(1_751_328_009_000_000));
}
