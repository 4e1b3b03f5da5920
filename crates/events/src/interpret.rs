//! From raw, verified body bytes to an [`Interpretation`].

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::kind::{EventKind, TypeShape};
use crate::npn::{normalise_npn, normalise_npn_text};
use crate::raw::RawObject;

mod envelope;

use envelope::{Data, RawData, RawEnvelope};

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
    /// A test message from the sender's portal, not an event: `svix.ping`
    /// (its "Send Example" button, and the request sent when an endpoint is
    /// saved), whose body is `{"success": true}` or an envelope of that type.
    #[error("a test delivery from the sender's portal")]
    TestDelivery,
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
            Self::TestDelivery => TEST_DELIVERY,
        }
    }

    /// The reverse of [`code`](Self::code), for reading the log back.
    pub fn from_code(code: &str) -> Option<Self> {
        ALL_REASONS.into_iter().find(|reason| reason.code() == code)
    }
}

/// The stored reason of a portal test message: counted apart from events
/// this release could not fold.
pub const TEST_DELIVERY: &str = "test_delivery";

/// The event type the sender's portal uses for test messages.
const PING_TYPE: &str = "svix.ping";

const ALL_REASONS: [NotUnderstood; 10] = [
    NotUnderstood::NotJson,
    NotUnderstood::NotAnEnvelope,
    NotUnderstood::InvalidTimestamp,
    NotUnderstood::UnknownType,
    NotUnderstood::DataNotObject,
    NotUnderstood::MissingNpn,
    NotUnderstood::InvalidNpn,
    NotUnderstood::MissingRecordId,
    NotUnderstood::MissingRunDate,
    NotUnderstood::TestDelivery,
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
    /// Whether the log's columns say all the body says: the event is
    /// understood and its kind is [`EventKind::said_by_columns`]. A reader
    /// of such an entry's stored columns needs nothing more from its body.
    pub fn columns_say_all(&self) -> bool {
        self.outcome.as_ref().is_ok_and(EventKind::said_by_columns)
    }

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
///
/// The envelope is read without building a tree: each field is kept as raw
/// text and only the few the log and the fold need are parsed (`id`,
/// `type`, `timestamp`, `data.npn`, `data.id`, `data.runDate`); `data`
/// itself is kept as text ([`RawObject`]) for a profile, and left in the
/// body for a sub-record ([`record_payload`]). Bodies this fast reading could
/// judge differently from a strict parse go through one first
/// ([`needs_strict_parse`]).
pub fn interpret(body: &[u8]) -> Interpretation {
    let interpretation = read_envelope(body, |text| {
        read_fields(text, keeps_profile_text, |interpretation, _| interpretation)
    })
    .unwrap_or_else(Interpretation::not_understood);
    if is_test_delivery(&interpretation, body) {
        return Interpretation {
            outcome: Err(NotUnderstood::TestDelivery),
            ..interpretation
        };
    }
    interpretation
}

/// Whether a body that is not an event is the portal's test message: an
/// envelope of type `svix.ping`, or the ping's own payload
/// `{"success": true}` (which the sender posts without an envelope). Only
/// bodies already found not to be events are looked at again.
fn is_test_delivery(interpretation: &Interpretation, body: &[u8]) -> bool {
    match interpretation.outcome {
        Err(NotUnderstood::UnknownType) => interpretation.event_type.as_deref() == Some(PING_TYPE),
        Err(NotUnderstood::NotAnEnvelope) => {
            serde_json::from_slice::<Value>(body).is_ok_and(|value| {
                value.as_object().is_some_and(|object| {
                    object.len() == 1 && object.get("success") == Some(&Value::Bool(true))
                })
            })
        }
        _ => false,
    }
}

/// A sub-record's fields as an `id.producer.<kind>.updated` body carries
/// them in `data`; `None` for any other body. States refer to such entries
/// by log position, and readers take the fields from here.
pub fn record_payload(body: &[u8]) -> Option<RawObject> {
    read_envelope(body, |text| {
        read_fields(
            text,
            |_| true,
            |interpretation, data| match interpretation.outcome {
                Ok(EventKind::SubRecordUpdated { .. }) => {
                    data?.raw.map(|raw| RawObject::from_raw(raw.to_owned()))
                }
                _ => None,
            },
        )
    })
    .ok()
    .flatten()
}

/// Reads an envelope's text with `read`: as it is when that is safe, or
/// else after a strict parse has decided what is JSON (its text, written
/// back, has no duplicate keys and no escapes but control characters).
fn read_envelope<T>(body: &[u8], read: impl Fn(&str) -> Option<T>) -> Result<T, NotUnderstood> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(NotUnderstood::NotJson);
    };
    if !needs_strict_parse(text)
        && let Some(read) = read(text)
    {
        return Ok(read);
    }
    let Ok(value) = serde_json::from_str::<Value>(text) else {
        return Err(NotUnderstood::NotJson);
    };
    if !value.is_object() {
        return Err(NotUnderstood::NotAnEnvelope);
    }
    read(&value.to_string()).ok_or(NotUnderstood::NotAnEnvelope)
}

/// Whether [`interpret`] keeps the text of an event's `data`: a profile
/// update's is the profile.
fn keeps_profile_text(shape: Option<TypeShape>) -> bool {
    matches!(shape, Some(TypeShape::ProfileUpdated))
}

/// Reads an envelope field by field and hands `with` its interpretation
/// and its `data` object (with its text where `keeps_text` asks for it,
/// or where `type` follows `data`); `None` when it cannot be read that way
/// (a repeated key, in the envelope or in `data`).
fn read_fields<T>(
    text: &str,
    keeps_text: fn(Option<TypeShape>) -> bool,
    with: impl FnOnce(Interpretation, Option<&DataObject<'_>>) -> T,
) -> Option<T> {
    let mut envelope = RawEnvelope::read(text, keeps_text)?;
    let data = match envelope.data.take() {
        Some(Data::Raw(raw)) if raw.get().starts_with('{') => Some(DataObject {
            raw: Some(raw),
            fields: serde_json::from_str(raw.get()).ok()?,
        }),
        Some(Data::Fields(fields)) => Some(DataObject { raw: None, fields }),
        Some(Data::Raw(_) | Data::NotObject) | None => None,
    };
    Some(with(
        interpret_envelope(&envelope, data.as_ref()),
        data.as_ref(),
    ))
}

/// Whether a body must be parsed strictly before it is read field by field:
/// when it is not an object, or where skipping over raw text is more lenient
/// than parsing it, or where an object may repeat a key (a struct refuses a
/// repeated field; a strict parse keeps the last). Skipping accepts what a
/// strict parse refuses in three places: `\u` escapes (a lone surrogate),
/// nesting beyond the parser's depth limit of 128, and numbers beyond
/// `f64`'s range, which need an exponent or 309 digits. The checks are
/// conservative: they may send a body the strict way for nothing (an `e`
/// after a digit inside a string), never the other way.
fn needs_strict_parse(text: &str) -> bool {
    if !text.trim_start().starts_with('{') {
        return true;
    }
    let bytes = text.as_bytes();
    // Plain loops without an early exit, so that they vectorise: this check
    // runs on every body, and four searches of it took a fifth of the
    // time of interpreting one.
    let (mut opens, mut digits) = (0usize, 0usize);
    for chunk in bytes.chunks(usize::from(u8::MAX)) {
        let (mut chunk_opens, mut chunk_digits) = (0u8, 0u8);
        for &byte in chunk {
            chunk_opens += u8::from(is_open(byte));
            chunk_digits += u8::from(byte.is_ascii_digit());
        }
        opens += usize::from(chunk_opens);
        digits += usize::from(chunk_digits);
    }
    let mut lenient_pair = false;
    for (&before, &after) in bytes.iter().zip(bytes.iter().skip(1)) {
        let exponent = before.is_ascii_digit() & (after | 0x20 == b'e');
        let unicode_escape = (before == b'\\') & (after == b'u');
        lenient_pair |= exponent | unicode_escape;
    }
    opens >= MAX_DEPTH || digits >= F64_DIGITS || lenient_pair
}

/// `{` or `[` (one bit apart).
fn is_open(byte: u8) -> bool {
    byte | 0x20 == b'{'
}

/// serde_json's nesting limit.
const MAX_DEPTH: usize = 128;
/// Digits beyond which a number without exponent may exceed `f64`.
const F64_DIGITS: usize = 309;

/// A raw JSON string's value; `None` for any other JSON.
fn raw_string(raw: Option<&RawValue>) -> Option<String> {
    raw_str(raw).map(Cow::into_owned)
}

/// [`raw_string`], borrowed from the body when the string has no escapes
/// (the raw text is then the value between its quotes).
fn raw_str(raw: Option<&RawValue>) -> Option<Cow<'_, str>> {
    let text = raw?.get();
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    // A plain loop: these strings are short, and memchr's set-up cost more.
    if inner.bytes().any(|byte| byte == b'\\') {
        serde_json::from_str(text).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// `data` when it is an object: its text (when it was kept), and the
/// fields the fold reads.
struct DataObject<'a> {
    raw: Option<&'a RawValue>,
    fields: RawData<'a>,
}

fn interpret_envelope(envelope: &RawEnvelope<'_>, data: Option<&DataObject<'_>>) -> Interpretation {
    let event_id = raw_string(envelope.id);
    let event_type = raw_string(envelope.event_type);
    let npn_field = data.and_then(|data| data.fields.npn);
    let npn = npn_field.and_then(|raw| match raw_str(Some(raw)) {
        Some(text) => normalise_npn_text(&text).ok(),
        None => serde_json::from_str::<Value>(raw.get())
            .ok()
            .and_then(|value| normalise_npn(&value).ok()),
    });
    let timestamp = envelope.timestamp.filter(|raw| raw.get() != "null");
    let occurred_at = raw_str(timestamp).and_then(|text| parse_timestamp_micros(&text));

    let outcome = match (&event_id, &event_type) {
        (Some(_), Some(_)) if timestamp.is_some() && occurred_at.is_none() => {
            Err(NotUnderstood::InvalidTimestamp)
        }
        (Some(_), Some(event_type)) => {
            typed_kind(event_type, data, npn_field.is_some(), npn.is_some())
        }
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

fn typed_kind(
    event_type: &str,
    data: Option<&DataObject<'_>>,
    has_npn_field: bool,
    npn_is_valid: bool,
) -> Result<EventKind, NotUnderstood> {
    let shape = TypeShape::of(event_type).ok_or(NotUnderstood::UnknownType)?;
    let data = data.ok_or(NotUnderstood::DataNotObject)?;
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

fn kind_from_data(shape: TypeShape, data: &DataObject<'_>) -> Result<EventKind, NotUnderstood> {
    // The text is kept for every profile update (`keeps_profile_text`).
    let object = || {
        data.raw
            .map(|raw| RawObject::from_raw(raw.to_owned()))
            .ok_or(NotUnderstood::DataNotObject)
    };
    let record_id = || raw_string(data.fields.id).ok_or(NotUnderstood::MissingRecordId);
    let kind = match shape {
        TypeShape::UpdatesAvailable => EventKind::UpdatesAvailable {
            run_date: raw_string(data.fields.run_date).ok_or(NotUnderstood::MissingRunDate)?,
        },
        TypeShape::ProfileUpdated => EventKind::ProfileUpdated { profile: object()? },
        TypeShape::SubRecordUpdated(kind) => EventKind::SubRecordUpdated {
            kind,
            id: record_id()?,
        },
        TypeShape::SubRecordDeleted(kind) => EventKind::SubRecordDeleted {
            kind,
            id: record_id()?,
        },
        TypeShape::Activated
        | TypeShape::Deactivated
        | TypeShape::ProfileDeleted
        | TypeShape::ContractProducer
        | TypeShape::Contract => return shape.kind_alone().ok_or(NotUnderstood::UnknownType),
    };
    Ok(kind)
}

#[cfg(test)]
mod tests;
