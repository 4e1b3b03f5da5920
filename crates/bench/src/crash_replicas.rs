//! The crash test on PostgreSQL: three replicas of the server on one
//! database, signed load spread over them (every eighth delivery sent to
//! two replicas at once), and in each round either one replica killed with
//! SIGKILL and restarted, or PostgreSQL itself stopped immediately
//! (`pg_ctl stop -m immediate`) and started again. Then the same checks as
//! on SQLite: nothing acknowledged lost or doubled, positions 1..N, the
//! projection equal to a fresh rebuild; and a subscriber on each replica
//! slot (resuming with `afterPosition` after each restart of its replica)
//! was sent every position once, in order.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use webhook_verify::Secret;

use crate::crash::{CrashReport, acked_in_round, check, resend, seed};
use crate::events::Rng;
use crate::http1::Http1Clients;
use crate::ingest::deliver_expecting;
use crate::load::drive;
use crate::server_process::{SECRET, ServerProcess};
use crate::subscriber;

/// How many replicas serve the database.
const REPLICAS: usize = 3;

/// Every this many deliveries of a sender also go to a second replica at
/// the same moment, as a sender's retry racing its first try would.
const SENT_TWICE_EVERY: u64 = 8;

/// How long the subscribers may take, once the load is over, to have been
/// sent the whole log.
const SUBSCRIBERS_CATCH_UP: Duration = Duration::from_secs(30);

/// Runs `rounds` rounds of load-then-crash on a cluster of its own.
pub async fn run(
    binary: &Path,
    dir: &Path,
    rounds: usize,
    connections: usize,
) -> anyhow::Result<CrashReport> {
    let cluster = test_postgres::Cluster::start();
    let url = cluster.create_database("crash");
    let secret = Arc::new(Secret::parse(SECRET)?);
    let mut rng = Rng::new(seed());
    let log = |replica: usize| dir.join(format!("crash-replica-{replica}.log"));
    let mut servers = Vec::with_capacity(REPLICAS);
    for replica in 0..REPLICAS {
        servers.push(ServerProcess::start(binary, &url, &log(replica)).await?);
    }
    // A subscriber per replica slot, from the first position on, following
    // the slot's replica across its restarts.
    let addresses: Vec<subscriber::Address> = servers
        .iter()
        .map(|server| Arc::new(Mutex::new(server.base_url.clone())))
        .collect();
    let seen: Vec<subscriber::Seen> = (0..REPLICAS).map(|_| Arc::default()).collect();
    let subscribers: Vec<_> = addresses
        .iter()
        .zip(&seen)
        .map(|(address, seen)| subscriber::spawn(Arc::clone(address), Arc::clone(seen)))
        .collect();
    let mut report = CrashReport::default();
    let mut acked: Vec<(usize, u64)> = Vec::new();
    for round in 0..rounds {
        let target = rng.below(REPLICAS as u64) as usize;
        report.retries_deduplicated += resend(&servers[target], &secret, &acked, &mut rng).await?;
        let clients = servers
            .iter()
            .map(|server| Http1Clients::new(&server.base_url, connections).map(Arc::new))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let load_secret = secret.clone();
        let load = tokio::spawn(drive(
            connections,
            Duration::from_secs(3),
            move |worker, sequence| {
                let (clients, secret) = (clients.clone(), load_secret.clone());
                async move {
                    let sender = round * 1_000 + worker;
                    let first = &clients[worker % REPLICAS];
                    if sequence % SENT_TWICE_EVERY != 0 {
                        return deliver_expecting(first, &secret, sender, sequence, "position")
                            .await;
                    }
                    let second = &clients[(worker + 1) % REPLICAS];
                    let (a, b) = tokio::join!(
                        deliver_expecting(first, &secret, sender, sequence, "position"),
                        deliver_expecting(second, &secret, sender, sequence, "position")
                    );
                    a || b
                }
            },
        ));
        tokio::time::sleep(Duration::from_millis(200 + rng.below(1_300))).await;
        if round % 3 == 2 {
            cluster.stop_immediately();
            tokio::time::sleep(Duration::from_millis(300)).await;
            cluster.start_server();
        } else {
            let victim = rng.below(REPLICAS as u64) as usize;
            servers.remove(victim).stop().await;
            let restarted = ServerProcess::start(binary, &url, &log(REPLICAS + round)).await?;
            *addresses[victim]
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = restarted.base_url.clone();
            servers.insert(victim, restarted);
        }
        report.kills += 1;
        acked.extend(acked_in_round(round, &load.await?));
    }
    check(&mut report, &url, &acked, &servers[0]).await?;
    let head = i64::try_from(report.logged)?;
    let started = std::time::Instant::now();
    while started.elapsed() < SUBSCRIBERS_CATCH_UP
        && !seen
            .iter()
            .all(|seen| subscriber::saw_every_position_once_in_order(seen, head))
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for task in subscribers {
        task.abort();
    }
    report.subscribers_in_order = Some(
        seen.iter()
            .all(|seen| subscriber::saw_every_position_once_in_order(seen, head)),
    );
    for server in servers {
        server.stop().await;
    }
    Ok(report)
}
