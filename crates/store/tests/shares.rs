//! A rebuild's shares of the log: the SQL filter and `NpnShare::holds`
//! agree, and the shares split the log exactly.

use event_store::{NewEntry, NpnShare, Store, StoreOptions};

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
                    .entries_in_order(after, head, share, 2)
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
