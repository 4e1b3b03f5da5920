//! How a producer's state is kept in its row: what dashboards filter on in
//! typed columns (status, the four times, the event count, deleted, the
//! profile), and the rest of what the fold needs in `fold_state`, a JSON
//! document with full field names:
//!
//! ```json
//! {"status_set_by": {"time": 20, "event_id": "e2"},
//!  "profile_set_by": {"time": 10, "event_id": "e1"},
//!  "sub_records": {"phone": {"ph_2": {"time": 31, "event_id": "e4", "value": 41}}}}
//! ```
//!
//! Each fact is stored once: a value in its column, the stamp of the event
//! that set it (which later events are compared with) in `fold_state`. A
//! sub-record's value is the log position of the event that carried its
//! fields (`null`: deleted); see [`crate::PayloadAt`].

use agentsync_events::RawObject;
use event_store::ProducerRow;
use serde::{Deserialize, Serialize};

use crate::projector::ProjectorError;
use crate::state::{ProducerState, Stamp, Status, SubRecords, Versioned};

/// The `fold_state` document.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FoldState {
    /// Who set the status; absent: never activated nor deactivated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status_set_by: Option<Stamp>,
    /// Who set the profile; absent: no profile received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    profile_set_by: Option<Stamp>,
    /// Who set `deleted`; absent: no profile event received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleted_set_by: Option<Stamp>,
    /// Sub-records by kind and id, tombstones included.
    #[serde(default)]
    sub_records: SubRecords,
}

/// One state as a row.
pub(crate) fn encode_row(
    generation: i64,
    npn: &str,
    state: &ProducerState,
    last_position: i64,
) -> Result<ProducerRow, ProjectorError> {
    let fold_state = FoldState {
        status_set_by: state.status.as_ref().map(|v| v.stamp.clone()),
        profile_set_by: state.profile.as_ref().map(|v| v.stamp.clone()),
        deleted_set_by: state.deleted.as_ref().map(|v| v.stamp.clone()),
        sub_records: state.sub_records.clone(),
    };
    Ok(ProducerRow {
        generation,
        npn: npn.to_owned(),
        status: state.current_status().as_str().to_owned(),
        last_activated_at: state.last_activated_at,
        last_deactivated_at: state.last_deactivated_at,
        first_event_at: state.first_event_at,
        last_event_at: state.last_event_at,
        event_count: i64::try_from(state.event_count).unwrap_or(i64::MAX),
        deleted: state.is_deleted(),
        profile: state
            .profile
            .as_ref()
            .map(|profile| profile.value.as_json().to_owned()),
        fold_state: serde_json::to_string(&fold_state)?,
        last_position,
    })
}

/// Reads a row back into the state it was written from. A row of fold
/// version 5 (its whole state in `fold_state`, one-letter names) reads too,
/// so the previous generation serves while a rebuild replaces it.
pub fn decode_state(row: &ProducerRow) -> Result<ProducerState, ProjectorError> {
    let fold_state: FoldState = match serde_json::from_str(&row.fold_state) {
        Ok(fold_state) => fold_state,
        Err(error) => {
            return serde_json::from_str::<FoldVersion5>(&row.fold_state)
                .map(ProducerState::from)
                .map_err(|_| error.into());
        }
    };
    let status = match row.status.as_str() {
        "ACTIVE" => Status::Active,
        _ => Status::Inactive,
    };
    let profile = match (fold_state.profile_set_by, &row.profile) {
        (Some(stamp), Some(text)) => Some(Versioned {
            stamp,
            value: serde_json::from_str::<RawObject>(text)?,
        }),
        _ => None,
    };
    Ok(ProducerState {
        status: fold_state.status_set_by.map(|stamp| Versioned {
            stamp,
            value: status,
        }),
        last_activated_at: row.last_activated_at,
        last_deactivated_at: row.last_deactivated_at,
        first_event_at: row.first_event_at,
        last_event_at: row.last_event_at,
        event_count: u64::try_from(row.event_count).unwrap_or(0),
        profile,
        deleted: fold_state.deleted_set_by.map(|stamp| Versioned {
            stamp,
            value: row.deleted,
        }),
        sub_records: fold_state.sub_records,
    })
}

/// A whole state as fold version 5 stored it, one letter a field (the
/// full names of fold version 4 read too).
#[derive(Deserialize)]
struct FoldVersion5 {
    #[serde(rename = "s", alias = "status", default)]
    status: Option<Versioned<Status>>,
    #[serde(rename = "a", alias = "last_activated_at", default)]
    last_activated_at: Option<i64>,
    #[serde(rename = "d", alias = "last_deactivated_at", default)]
    last_deactivated_at: Option<i64>,
    #[serde(rename = "f", alias = "first_event_at", default)]
    first_event_at: Option<i64>,
    #[serde(rename = "l", alias = "last_event_at", default)]
    last_event_at: Option<i64>,
    #[serde(rename = "n", alias = "event_count")]
    event_count: u64,
    #[serde(rename = "p", alias = "profile", default)]
    profile: Option<Versioned<RawObject>>,
    #[serde(rename = "x", alias = "deleted", default)]
    deleted: Option<Versioned<bool>>,
    #[serde(rename = "r", alias = "sub_records", default)]
    sub_records: SubRecords,
}

impl From<FoldVersion5> for ProducerState {
    fn from(old: FoldVersion5) -> Self {
        Self {
            status: old.status,
            last_activated_at: old.last_activated_at,
            last_deactivated_at: old.last_deactivated_at,
            first_event_at: old.first_event_at,
            last_event_at: old.last_event_at,
            event_count: old.event_count,
            profile: old.profile,
            deleted: old.deleted,
            sub_records: old.sub_records,
        }
    }
}

#[cfg(test)]
mod tests;
