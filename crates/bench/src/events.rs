//! Realistic AgentSync event bodies for the benchmarks.

/// A small, fast, seeded generator (xorshift64*), so runs are repeatable.
pub struct Rng(u64);

impl Rng {
    /// A generator from a non-zero seed.
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next number below `bound`.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % bound.max(1)
    }
}

/// The mix of event types, in percent.
const MIX: &[(&str, u64)] = &[
    ("producersync.npn.activated", 20),
    ("producersync.npn.deactivated", 10),
    ("id.producer.updated", 25),
    ("id.producer.address.updated", 14),
    ("id.producer.phone.updated", 10),
    ("id.producer.bank_account.updated", 5),
    ("id.producer.errors_and_omissions.updated", 5),
    ("id.producer.address.deleted", 4),
    ("id.producer.phone.deleted", 2),
    ("contract.producer_status.updated", 4),
    ("producersync.updates_available", 1),
];

/// One envelope body: `id`, a type from the mix, `timestamp` (RFC 3339,
/// from `epoch_secs`), data for `npn`.
pub fn body(rng: &mut Rng, event_id: &str, npn: u64, epoch_secs: i64) -> String {
    let mut pick = rng.below(100);
    let event_type = MIX
        .iter()
        .find(|(_, weight)| {
            let hit = pick < *weight;
            pick = pick.saturating_sub(*weight);
            hit
        })
        .map_or("producersync.npn.activated", |(name, _)| name);
    let record = rng.below(3);
    let data = match event_type {
        "producersync.updates_available" => format!(r#"{{"runDate":"{}"}}"#, date(epoch_secs)),
        "id.producer.updated" => format!(
            r#"{{"npn":"{npn}","firstName":"First{}","lastName":"Last{npn}","email":"p{npn}@example.com","ssn":"123-45-{:04}","dateOfBirth":"1980-01-{:02}"}}"#,
            rng.below(1000),
            npn % 10_000,
            1 + npn % 28
        ),
        "id.producer.address.updated" => format!(
            r#"{{"npn":"{npn}","id":"addr_{record}","type":"BUSINESS","line1":"{} Main St","city":"Denver","state":"CO","zip":"80202"}}"#,
            rng.below(9999)
        ),
        "id.producer.phone.updated" => format!(
            r#"{{"npn":"{npn}","id":"ph_{record}","type":"MOBILE","number":"+1-303-555-{:04}"}}"#,
            rng.below(10_000)
        ),
        "id.producer.bank_account.updated" => format!(
            r#"{{"npn":"{npn}","id":"ba_{record}","accountType":"CHECKING","routingNumber":"021000021","accountNumber":"{:012}"}}"#,
            rng.below(1_000_000_000_000)
        ),
        "id.producer.errors_and_omissions.updated" => format!(
            r#"{{"npn":"{npn}","id":"eo_{record}","carrier":"Acme Mutual","policyNumber":"EO-{}","expirationDate":"2027-01-31"}}"#,
            rng.below(100_000)
        ),
        "id.producer.address.deleted" => format!(r#"{{"npn":"{npn}","id":"addr_{record}"}}"#),
        "id.producer.phone.deleted" => format!(r#"{{"npn":"{npn}","id":"ph_{record}"}}"#),
        "contract.producer_status.updated" => {
            format!(r#"{{"npn":"{npn}","organizationId":"org_01","status":"ACTIVE"}}"#)
        }
        _ => format!(r#"{{"npn":"{npn}"}}"#),
    };
    format!(
        r#"{{"id":"{event_id}","type":"{event_type}","timestamp":"{}","data":{data}}}"#,
        timestamp(epoch_secs)
    )
}

fn civil(epoch_secs: i64) -> (i64, u32, u32, i64) {
    // Days to civil date (Howard Hinnant's algorithm), to avoid a date crate.
    let days = epoch_secs.div_euclid(86_400);
    let secs = epoch_secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, secs)
}

fn date(epoch_secs: i64) -> String {
    let (year, month, day, _) = civil(epoch_secs);
    format!("{year:04}-{month:02}-{day:02}")
}

fn timestamp(epoch_secs: i64) -> String {
    let (_, _, _, secs) = civil(epoch_secs);
    format!(
        "{}T{:02}:{:02}:{:02}.000Z",
        date(epoch_secs),
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil() {
        assert_eq!(timestamp(1_753_397_465), "2025-07-24T22:51:05.000Z");
        assert_eq!(date(0), "1970-01-01");
    }
}
