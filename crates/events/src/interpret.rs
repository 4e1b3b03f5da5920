//! From raw, verified body bytes to an [`Interpretation`].

use chrono::{DateTime, NaiveDateTime};
use serde_json::{Map, Value};

use crate::kind::{EventKind, TypeShape};
use crate::npn::normalise_npn;

/// Why a verified body could not be folded. It is still appended to the log
/// with this reason, so a later release can fold it on rebuild.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotUnderstood {
    /// The body is not JSON (or nests deeper than the parser allows).
    #[error("the body is not JSON")]
    NotJson,
    /// JSON, but not an object with a string `id` and `type`.
    #[error("the body is not an envelope with a string id and type")]
    NotAnEnvelope,
    /// The `timestamp` is present but not an ISO 8601 date-time.
    #[error("the envelope timestamp is not ISO 8601")]
    InvalidTimestamp,
    /// A type this release does not know.
    #[error("the event type is not known to this release")]
    UnknownType,
    /// `data` is absent or not an object.
    #[error("the envelope data is not an object")]
    DataNotObject,
    /// The type names a producer but `data.npn` is absent.
    #[error("data.npn is missing")]
    MissingNpn,
    /// `data.npn` is not a digit string or a non-negative integer.
    #[error("data.npn is not a digit string")]
    InvalidNpn,
    /// A sub-record event without a string `data.id`.
    #[error("data.id is missing or not a string")]
    MissingRecordId,
    /// `producersync.updates_available` without a string `data.runDate`.
    #[error("data.runDate is missing or not a string")]
    MissingRunDate,
}

impl NotUnderstood {
    /// A stable, machine-readable code, stored in the log and exposed to
    /// GraphQL and metrics.
    pub fn code(self) -> &'static str {
        match self {
            Self::NotJson => "not_json",
            Self::NotAnEnvelope => "not_an_envelope",
            Self::InvalidTimestamp => "invalid_timestamp",
            Self::UnknownType => "unknown_type",
            Self::DataNotObject => "data_not_object",
            Self::MissingNpn => "missing_npn",
            Self::InvalidNpn => "invalid_npn",
            Self::MissingRecordId => "missing_record_id",
            Self::MissingRunDate => "missing_run_date",
        }
    }

    /// The reverse of [`code`](Self::code), for reading the log back.
    pub fn from_code(code: &str) -> Option<Self> {
        ALL_REASONS.into_iter().find(|reason| reason.code() == code)
    }
}

const ALL_REASONS: [NotUnderstood; 9] = [
    NotUnderstood::NotJson,
    NotUnderstood::NotAnEnvelope,
    NotUnderstood::InvalidTimestamp,
    NotUnderstood::UnknownType,
    NotUnderstood::DataNotObject,
    NotUnderstood::MissingNpn,
    NotUnderstood::InvalidNpn,
    NotUnderstood::MissingRecordId,
    NotUnderstood::MissingRunDate,
];

/// Everything the log and the fold need to know about one body. The key
/// columns (`event_id`, `event_type`, `occurred_at`, `npn`) are filled as far
/// as the body allows, even when it is not understood, so that duplicates
/// are still caught and the entry can be found.
#[derive(Debug, Clone, PartialEq)]
pub struct Interpretation {
    /// Envelope `id`: the event key, repeated on retries.
    pub event_id: Option<String>,
    /// Envelope `type`, as sent.
    pub event_type: Option<String>,
    /// Envelope `timestamp`, in microseconds since the epoch.
    pub occurred_at: Option<i64>,
    /// The normalised `data.npn`, where the event names one.
    pub npn: Option<String>,
    /// The typed event, or why there is none.
    pub outcome: Result<EventKind, NotUnderstood>,
}

impl Interpretation {
    fn not_understood(reason: NotUnderstood) -> Self {
        Self {
            event_id: None,
            event_type: None,
            occurred_at: None,
            npn: None,
            outcome: Err(reason),
        }
    }
}

/// Parses an envelope timestamp: RFC 3339 with any offset, or a date-time
/// without offset taken as UTC; fractional seconds optional.
pub fn parse_timestamp_micros(text: &str) -> Option<i64> {
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Some(moment.timestamp_micros());
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc().timestamp_micros())
}

/// Interprets a verified body. Never fails: see [`Interpretation::outcome`].
pub fn interpret(body: &[u8]) -> Interpretation {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Interpretation::not_understood(NotUnderstood::NotJson);
    };
    let Value::Object(mut envelope) = value else {
        return Interpretation::not_understood(NotUnderstood::NotAnEnvelope);
    };
    let event_id = string_field(&envelope, "id");
    let event_type = string_field(&envelope, "type");
    let data = envelope.remove("data");
    let npn_field = data.as_ref().and_then(|data| data.get("npn"));
    let has_npn_field = npn_field.is_some();
    let npn = npn_field.and_then(|value| normalise_npn(value).ok());
    let timestamp = envelope.get("timestamp").filter(|value| !value.is_null());
    let occurred_at = timestamp
        .and_then(Value::as_str)
        .and_then(parse_timestamp_micros);

    let outcome = match (&event_id, &event_type) {
        (Some(_), Some(_)) if timestamp.is_some() && occurred_at.is_none() => {
            Err(NotUnderstood::InvalidTimestamp)
        }
        (Some(_), Some(event_type)) => typed_kind(event_type, data, has_npn_field, npn.is_some()),
        _ => Err(NotUnderstood::NotAnEnvelope),
    };
    Interpretation {
        event_id,
        event_type,
        occurred_at,
        npn,
        outcome,
    }
}

fn string_field(object: &Map<String, Value>, key: &str) -> Option<String> {
    object.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn typed_kind(
    event_type: &str,
    data: Option<Value>,
    has_npn_field: bool,
    npn_is_valid: bool,
) -> Result<EventKind, NotUnderstood> {
    let shape = TypeShape::of(event_type).ok_or(NotUnderstood::UnknownType)?;
    let Some(Value::Object(data)) = data else {
        return Err(NotUnderstood::DataNotObject);
    };
    if shape.needs_npn() {
        if !has_npn_field {
            return Err(NotUnderstood::MissingNpn);
        }
        if !npn_is_valid {
            return Err(NotUnderstood::InvalidNpn);
        }
    }
    kind_from_data(shape, data)
}

fn kind_from_data(shape: TypeShape, data: Map<String, Value>) -> Result<EventKind, NotUnderstood> {
    let kind = match shape {
        TypeShape::UpdatesAvailable => EventKind::UpdatesAvailable {
            run_date: string_field(&data, "runDate").ok_or(NotUnderstood::MissingRunDate)?,
        },
        TypeShape::Activated => EventKind::NpnActivated,
        TypeShape::Deactivated => EventKind::NpnDeactivated,
        TypeShape::ProfileUpdated => EventKind::ProfileUpdated { profile: data },
        TypeShape::ProfileDeleted => EventKind::ProfileDeleted,
        TypeShape::SubRecordUpdated(kind) => EventKind::SubRecordUpdated {
            kind,
            id: string_field(&data, "id").ok_or(NotUnderstood::MissingRecordId)?,
            fields: data,
        },
        TypeShape::SubRecordDeleted(kind) => EventKind::SubRecordDeleted {
            kind,
            id: string_field(&data, "id").ok_or(NotUnderstood::MissingRecordId)?,
        },
        TypeShape::ContractProducer | TypeShape::Contract => EventKind::HistoryOnly,
    };
    Ok(kind)
}

#[cfg(test)]
mod tests;
