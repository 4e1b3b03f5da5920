//! The folded state: per producer, and the facts that belong to none.

use agentsync_events::{RawObject, SubRecordKind};
use litemap::LiteMap;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Orders events for last-writer-wins: the latest `time` (µs since the
/// epoch, occurred or else received) wins, ties broken by event id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Stamp {
    /// When the event counts as having occurred.
    pub time: i64,
    /// The envelope id, the tie-breaker.
    pub event_id: String,
}

/// A value and the stamp of the event that set it.
///
/// Stored as `{"time": …, "event_id": …, "value": …}`. Fold version 5
/// stored it as the array `[time, event_id, value]`, which is still read,
/// so the previous generation keeps serving while a rebuild replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// Who set it.
    pub stamp: Stamp,
    /// What it was set to.
    pub value: T,
}

/// How a [`Versioned`] value is written.
#[derive(Serialize)]
struct VersionedOut<'a, T> {
    time: i64,
    event_id: &'a str,
    value: &'a T,
}

impl<T: Serialize> Serialize for Versioned<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        VersionedOut {
            time: self.stamp.time,
            event_id: &self.stamp.event_id,
            value: &self.value,
        }
        .serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Versioned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(VersionedVisitor(std::marker::PhantomData))
    }
}

/// Reads a [`Versioned`] value from an object or, as fold version 5
/// wrote it, an array, straight from the input: the value may be a
/// [`RawObject`], which only the input itself can give.
struct VersionedVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for VersionedVisitor<T> {
    type Value = Versioned<T>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str(r#"{"time", "event_id", "value"} or [time, event_id, value]"#)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let missing = |what| serde::de::Error::custom(format_args!("missing {what}"));
        let time = seq.next_element()?.ok_or_else(|| missing("time"))?;
        let event_id = seq.next_element()?.ok_or_else(|| missing("event_id"))?;
        let value = seq.next_element()?.ok_or_else(|| missing("value"))?;
        if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
            return Err(serde::de::Error::custom("more than three elements"));
        }
        Ok(Versioned {
            stamp: Stamp { time, event_id },
            value,
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let (mut time, mut event_id, mut value) = (None, None, None);
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "time" => time = Some(map.next_value()?),
                "event_id" => event_id = Some(map.next_value()?),
                "value" => value = Some(map.next_value()?),
                other => {
                    return Err(serde::de::Error::unknown_field(
                        other,
                        &["time", "event_id", "value"],
                    ));
                }
            }
        }
        let missing = serde::de::Error::missing_field;
        Ok(Versioned {
            stamp: Stamp {
                time: time.ok_or_else(|| missing("time"))?,
                event_id: event_id.ok_or_else(|| missing("event_id"))?,
            },
            value: value.ok_or_else(|| missing("value"))?,
        })
    }
}

/// Sets `slot` to `value` unless it already holds a newer value.
pub(crate) fn last_writer_wins<T>(slot: &mut Option<Versioned<T>>, stamp: &Stamp, value: T) {
    if slot.as_ref().is_none_or(|current| *stamp > current.stamp) {
        *slot = Some(Versioned {
            stamp: stamp.clone(),
            value,
        });
    }
}

/// Whether a producer is in the monitored population.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// After `producersync.npn.activated`.
    Active,
    /// After `producersync.npn.deactivated`, or never activated.
    Inactive,
}

impl Status {
    /// The stored and displayed name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "ACTIVE",
            Status::Inactive => "INACTIVE",
        }
    }
}

/// Where a sub-record's fields are: the log position of the
/// `id.producer.<kind>.updated` event that carried them.
///
/// States refer to sub-records' fields instead of holding copies: the log
/// is append-only, so a position keeps pointing at the same body, and the
/// fields of a producer's addresses, phones, bank accounts and policies
/// made up half of a stored state, which a rebuild encodes and writes for
/// every producer. Readers fetch the bodies of the records they show
/// (`agentsync_events::record_payload`). The profile, which most reads
/// show, stays in the state.
pub type PayloadAt = i64;

/// One sub-record (address, phone, …) or its tombstone (`None`), so that an
/// older update arriving after a delete cannot resurrect it.
pub type SubRecord = Versioned<Option<PayloadAt>>;

/// Sub-records by id. A sorted vector, not a tree: producers have a few
/// sub-records each.
pub type SubRecordsById = LiteMap<String, SubRecord>;

/// A producer's sub-records, one field per kind (stored as a map from the
/// kind's type segment, `address`, `phone`, …, to its records by id).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SubRecords {
    /// `id.producer.address.*`
    #[serde(default, skip_serializing_if = "LiteMap::is_empty")]
    address: SubRecordsById,
    /// `id.producer.phone.*`
    #[serde(default, skip_serializing_if = "LiteMap::is_empty")]
    phone: SubRecordsById,
    /// `id.producer.bank_account.*`
    #[serde(default, skip_serializing_if = "LiteMap::is_empty")]
    bank_account: SubRecordsById,
    /// `id.producer.errors_and_omissions.*`
    #[serde(default, skip_serializing_if = "LiteMap::is_empty")]
    errors_and_omissions: SubRecordsById,
}

impl SubRecords {
    /// The records of one kind, tombstones included.
    pub fn of(&self, kind: SubRecordKind) -> &SubRecordsById {
        match kind {
            SubRecordKind::Address => &self.address,
            SubRecordKind::Phone => &self.phone,
            SubRecordKind::BankAccount => &self.bank_account,
            SubRecordKind::ErrorsAndOmissions => &self.errors_and_omissions,
        }
    }

    /// The records of one kind, to fold into.
    pub fn of_mut(&mut self, kind: SubRecordKind) -> &mut SubRecordsById {
        match kind {
            SubRecordKind::Address => &mut self.address,
            SubRecordKind::Phone => &mut self.phone,
            SubRecordKind::BankAccount => &mut self.bank_account,
            SubRecordKind::ErrorsAndOmissions => &mut self.errors_and_omissions,
        }
    }
}

/// Everything known about one producer, from its events alone. How it is
/// stored in a row is [`crate::stored`]'s business.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProducerState {
    /// Active or inactive, from the latest activation or deactivation.
    pub status: Option<Versioned<Status>>,
    /// The time of the latest activation.
    pub last_activated_at: Option<i64>,
    /// The time of the latest deactivation.
    pub last_deactivated_at: Option<i64>,
    /// The earliest event time seen.
    pub first_event_at: Option<i64>,
    /// The latest event time seen.
    pub last_event_at: Option<i64>,
    /// How many distinct events were folded.
    pub event_count: u64,
    /// The latest profile (`id.producer.updated` data), as sent.
    pub profile: Option<Versioned<RawObject>>,
    /// Whether the latest profile event is a deletion.
    pub deleted: Option<Versioned<bool>>,
    /// Sub-records by kind and id.
    pub sub_records: SubRecords,
}

impl ProducerState {
    /// The current status; a producer never activated is inactive.
    pub fn current_status(&self) -> Status {
        self.status
            .as_ref()
            .map_or(Status::Inactive, |status| status.value)
    }

    /// Whether the profile is deleted.
    pub fn is_deleted(&self) -> bool {
        self.deleted.as_ref().is_some_and(|deleted| deleted.value)
    }

    /// The live (not deleted) sub-records of one kind, by id.
    pub fn live_sub_records(
        &self,
        kind: SubRecordKind,
    ) -> impl Iterator<Item = (&String, &SubRecord)> {
        self.sub_records
            .of(kind)
            .iter()
            .filter(|(_, record)| record.value.is_some())
    }
}

/// Facts that belong to no producer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GlobalState {
    /// The latest `producersync.updates_available` runDate: the day
    /// AgentSync last refreshed NIPR data.
    pub run_date: Option<Versioned<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(time: i64, event_id: &str) -> Stamp {
        Stamp {
            time,
            event_id: event_id.to_owned(),
        }
    }

    fn versioned<T>(time: i64, event_id: &str, value: T) -> Versioned<T> {
        Versioned {
            stamp: stamp(time, event_id),
            value,
        }
    }

    #[test]
    fn global_facts_are_stored_with_named_fields_and_read_in_both_forms() {
        let global = GlobalState {
            run_date: Some(versioned(5, "u1", "2026-11-27".to_owned())),
        };
        let text = serde_json::to_string(&global).expect("global facts serialise");
        assert_eq!(
            text,
            r#"{"run_date":{"time":5,"event_id":"u1","value":"2026-11-27"}}"#
        );
        assert_eq!(
            serde_json::from_str::<GlobalState>(&text).ok(),
            Some(global.clone())
        );
        let by_fold_version_5 = r#"{"run_date":[5,"u1","2026-11-27"]}"#;
        assert_eq!(
            serde_json::from_str::<GlobalState>(by_fold_version_5).ok(),
            Some(global)
        );
    }

    #[test]
    fn a_stamped_value_of_the_wrong_shape_is_refused() {
        for text in [
            r#"{"run_date":[1,"e"]}"#,
            r#"{"run_date":["1","e","2026-11-27"]}"#,
            r#"{"run_date":{"time":1,"value":"2026-11-27"}}"#,
            r#"{"run_date":{"stamp":{"time":1,"event_id":"e"},"value":"2026-11-27"}}"#,
        ] {
            assert!(serde_json::from_str::<GlobalState>(text).is_err(), "{text}");
        }
    }
}
