//! The folded state: per producer, and the facts that belong to none.

use agentsync_events::{RawObject, SubRecordKind};
use litemap::LiteMap;
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
/// Stored as `[time, event_id, value]`: a state has one per attribute and
/// per sub-record, and as objects their field names made up about a third
/// of a stored state's text, which a rebuild encodes and writes for every
/// producer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// Who set it.
    pub stamp: Stamp,
    /// What it was set to.
    pub value: T,
}

impl<T: Serialize> Serialize for Versioned<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.stamp.time, &self.stamp.event_id, &self.value).serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Versioned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (time, event_id, value) = <(i64, String, T)>::deserialize(deserializer)?;
        Ok(Self {
            stamp: Stamp { time, event_id },
            value,
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

/// Everything known about one producer, from its events alone.
///
/// Stored with one-letter field names (`s`tatus, last `a`ctivated, last
/// `d`eactivated, `f`irst and `l`ast event, `n` events, `p`rofile, `x`
/// deleted, sub-`r`ecords): a rebuild encodes and writes a state for every
/// producer, and the full names were a sixth of a state's text (606 bytes
/// on average in the bench's log, 520 without them; CLI rebuilds 4% less
/// CPU). The full names are still read, so a state stored by an earlier
/// release decodes before the rebuild at start replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProducerState {
    /// Active or inactive, from the latest activation or deactivation.
    #[serde(
        rename = "s",
        alias = "status",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<Versioned<Status>>,
    /// The time of the latest activation.
    #[serde(
        rename = "a",
        alias = "last_activated_at",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_activated_at: Option<i64>,
    /// The time of the latest deactivation.
    #[serde(
        rename = "d",
        alias = "last_deactivated_at",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_deactivated_at: Option<i64>,
    /// The earliest event time seen.
    #[serde(
        rename = "f",
        alias = "first_event_at",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub first_event_at: Option<i64>,
    /// The latest event time seen.
    #[serde(
        rename = "l",
        alias = "last_event_at",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub last_event_at: Option<i64>,
    /// How many distinct events were folded.
    #[serde(rename = "n", alias = "event_count")]
    pub event_count: u64,
    /// The latest profile (`id.producer.updated` data), as sent.
    #[serde(
        rename = "p",
        alias = "profile",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub profile: Option<Versioned<RawObject>>,
    /// Whether the latest profile event is a deletion.
    #[serde(
        rename = "x",
        alias = "deleted",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted: Option<Versioned<bool>>,
    /// Sub-records by kind and id.
    #[serde(rename = "r", alias = "sub_records", default)]
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
    use agentsync_events::interpret;

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

    /// A profile object, as the interpreter keeps it.
    fn profile(text: &str) -> RawObject {
        let body = format!(r#"{{"id":"e","type":"id.producer.updated","data":{text}}}"#);
        match interpret(body.as_bytes()).outcome {
            Ok(agentsync_events::EventKind::ProfileUpdated { profile }) => profile,
            other => panic!("not a profile update: {other:?}"),
        }
    }

    #[test]
    fn a_state_is_stored_with_stamps_as_arrays_and_without_absent_fields() {
        let mut state = ProducerState {
            status: Some(versioned(20, "e2", Status::Active)),
            last_activated_at: Some(20),
            event_count: 3,
            profile: Some(versioned(
                10,
                "e1",
                profile(r#"{"npn":"7", "firstName":"Ada"}"#),
            )),
            ..ProducerState::default()
        };
        state
            .sub_records
            .of_mut(SubRecordKind::Phone)
            .insert("ph_1".to_owned(), versioned(30, "e3", None));
        state
            .sub_records
            .of_mut(SubRecordKind::Phone)
            .insert("ph_2".to_owned(), versioned(31, "e4", Some(41)));
        let text = serde_json::to_string(&state).expect("a state serialises");
        assert_eq!(
            text,
            r#"{"s":[20,"e2","Active"],"a":20,"n":3,"p":[10,"e1",{"npn":"7", "firstName":"Ada"}],"r":{"phone":{"ph_1":[30,"e3",null],"ph_2":[31,"e4",41]}}}"#
        );
        let read: ProducerState = serde_json::from_str(&text).expect("a state reads back");
        assert_eq!(read, state);
        let with_full_names = r#"{"status":[20,"e2","Active"],"last_activated_at":20,"event_count":3,"profile":[10,"e1",{"npn":"7", "firstName":"Ada"}],"sub_records":{"phone":{"ph_1":[30,"e3",null],"ph_2":[31,"e4",41]}}}"#;
        let read: ProducerState =
            serde_json::from_str(with_full_names).expect("a state stored by release 4 reads");
        assert_eq!(read, state);
    }

    #[test]
    fn every_field_is_stored_under_one_letter_and_read_under_both_names() {
        let mut state = ProducerState {
            status: Some(versioned(1, "e1", Status::Inactive)),
            last_activated_at: Some(2),
            last_deactivated_at: Some(3),
            first_event_at: Some(4),
            last_event_at: Some(5),
            event_count: 6,
            profile: Some(versioned(7, "e7", profile(r#"{"npn":"7"}"#))),
            deleted: Some(versioned(8, "e8", true)),
            ..ProducerState::default()
        };
        state
            .sub_records
            .of_mut(SubRecordKind::Address)
            .insert("a1".to_owned(), versioned(9, "e9", Some(9)));
        let text = serde_json::to_string(&state).expect("a state serialises");
        let names = [
            ("s", "status"),
            ("a", "last_activated_at"),
            ("d", "last_deactivated_at"),
            ("f", "first_event_at"),
            ("l", "last_event_at"),
            ("n", "event_count"),
            ("p", "profile"),
            ("x", "deleted"),
            ("r", "sub_records"),
        ];
        let stored: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&text).expect("an object");
        let mut stored_names: Vec<&str> = stored.keys().map(String::as_str).collect();
        let mut short: Vec<&str> = names.iter().map(|(short, _)| *short).collect();
        stored_names.sort_unstable();
        short.sort_unstable();
        assert_eq!(stored_names, short);
        let mut long_text = text.clone();
        for (short, long) in names {
            long_text = long_text.replacen(&format!("\"{short}\":"), &format!("\"{long}\":"), 1);
        }
        assert_ne!(long_text, text);
        let read: ProducerState = serde_json::from_str(&long_text).expect("full names read");
        assert_eq!(read, state);
    }

    #[test]
    fn an_empty_state_and_global_facts_read_back_equal() {
        let state = ProducerState::default();
        let text = serde_json::to_string(&state).expect("a state serialises");
        assert_eq!(text, r#"{"n":0,"r":{}}"#);
        assert_eq!(
            serde_json::from_str::<ProducerState>(&text).ok(),
            Some(state)
        );
        let global = GlobalState {
            run_date: Some(versioned(5, "u1", "2026-11-27".to_owned())),
        };
        let text = serde_json::to_string(&global).expect("global facts serialise");
        assert_eq!(text, r#"{"run_date":[5,"u1","2026-11-27"]}"#);
        assert_eq!(
            serde_json::from_str::<GlobalState>(&text).ok(),
            Some(global)
        );
    }

    #[test]
    fn a_stamp_array_of_the_wrong_shape_is_refused() {
        for text in [
            r#"{"n":1,"s":[1,"e"]}"#,
            r#"{"n":1,"s":["1","e","Active"]}"#,
            r#"{"n":1,"s":{"stamp":{"time":1,"event_id":"e"},"value":"Active"}}"#,
            r#"{"event_count":1,"status":[1,"e"]}"#,
        ] {
            assert!(
                serde_json::from_str::<ProducerState>(text).is_err(),
                "{text}"
            );
        }
    }
}
