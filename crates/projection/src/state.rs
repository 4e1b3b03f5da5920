//! The folded state: per producer, and the facts that belong to none.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versioned<T> {
    /// Who set it.
    pub stamp: Stamp,
    /// What it was set to.
    pub value: T,
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

/// One sub-record (address, phone, …) or its tombstone (`None`), so that an
/// older update arriving after a delete cannot resurrect it.
pub type SubRecord = Versioned<Option<Map<String, Value>>>;

/// Everything known about one producer, from its events alone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
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
    /// The latest profile (`id.producer.updated` data).
    pub profile: Option<Versioned<Map<String, Value>>>,
    /// Whether the latest profile event is a deletion.
    pub deleted: Option<Versioned<bool>>,
    /// Sub-records by kind (`address`, `phone`, …) and id.
    pub sub_records: BTreeMap<String, BTreeMap<String, SubRecord>>,
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
    pub fn live_sub_records(&self, kind: &str) -> impl Iterator<Item = (&String, &SubRecord)> {
        self.sub_records
            .get(kind)
            .into_iter()
            .flat_map(|records| records.iter())
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
