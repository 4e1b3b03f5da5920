//! Holding the rebuild lease while a rebuild runs: one rebuild at a time
//! across every process on the database (see
//! [`Store::take_rebuild_lease`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use event_store::Store;

/// How long a lease holds without being renewed: a process that died
/// mid-rebuild blocks the next rebuild at most this long.
pub(crate) const LEASE_TTL: Duration = Duration::from_secs(15);

/// How often a rebuild renews its lease (a third of its life, so two
/// renewals may fail before it runs out).
const RENEW_EVERY: Duration = Duration::from_secs(5);

/// How long a starting process waits before it looks again at a
/// projection another process is building.
pub(crate) const WAIT_FOR_OTHER_REBUILD: Duration = Duration::from_millis(250);

/// Now, in microseconds since the epoch.
pub(crate) fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// [`LEASE_TTL`] in microseconds.
pub(crate) fn ttl_micros() -> i64 {
    i64::try_from(LEASE_TTL.as_micros()).unwrap_or(i64::MAX)
}

/// This process's name as a lease holder: host, process id and a random
/// suffix (process ids repeat across containers).
pub(crate) fn holder_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "host".to_owned());
    let mut suffix = [0u8; 4];
    let suffix = match getrandom::fill(&mut suffix) {
        Ok(()) => u32::from_le_bytes(suffix),
        Err(_) => 0,
    };
    format!("{host}-{}-{suffix:08x}", std::process::id())
}

/// Renews `holder`'s lease every [`RENEW_EVERY`] until dropped.
pub(crate) struct Renewing(tokio::task::JoinHandle<()>);

impl Renewing {
    pub(crate) fn start(store: Store, holder: std::sync::Arc<str>) -> Self {
        Self(tokio::spawn(async move {
            loop {
                tokio::time::sleep(RENEW_EVERY).await;
                match store
                    .renew_rebuild_lease(&holder, now_micros(), ttl_micros())
                    .await
                {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::error!("the rebuild lost its lease; it will not swap");
                        return;
                    }
                    Err(error) => tracing::warn!(%error, "the rebuild could not renew its lease"),
                }
            }
        }))
    }
}

impl Drop for Renewing {
    fn drop(&mut self) {
        self.0.abort();
    }
}
