//! Reading an envelope's fields as raw text, and `data` with as few passes
//! over its text as the event type allows.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::kind::TypeShape;

/// The envelope's fields as raw text. A field that is present stays
/// `Some`, even when it is `null`.
pub(super) struct RawEnvelope<'a> {
    pub(super) id: Option<&'a RawValue>,
    pub(super) event_type: Option<&'a RawValue>,
    pub(super) timestamp: Option<&'a RawValue>,
    pub(super) data: Option<Data<'a>>,
}

/// `data` as read.
pub(super) enum Data<'a> {
    /// Its text, its fields not read yet.
    Raw(&'a RawValue),
    /// An object, read for the fields the fold needs and nothing else.
    Fields(RawData<'a>),
    /// Present, but not an object.
    NotObject,
}

/// The fields of `data` the fold reads, as raw text.
#[derive(Deserialize)]
pub(super) struct RawData<'a> {
    #[serde(borrow, default, deserialize_with = "present")]
    pub(super) npn: Option<&'a RawValue>,
    #[serde(borrow, default, deserialize_with = "present")]
    pub(super) id: Option<&'a RawValue>,
    #[serde(borrow, rename = "runDate", default, deserialize_with = "present")]
    pub(super) run_date: Option<&'a RawValue>,
}

fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue as Deserialize>::deserialize(deserializer).map(Some)
}

impl<'a> RawEnvelope<'a> {
    /// Reads `text` as an envelope; `None` when it is not an object of
    /// this shape, or repeats one of its fields (a strict parse would keep
    /// the last).
    ///
    /// When `type` comes before `data` and `keeps_text` says the event's
    /// `data` text is not wanted, `data` is read for its fields in the same
    /// pass; otherwise its text is kept and read for its fields afterwards.
    /// serde_json checks every byte it skips either way, so both readings
    /// accept the same bodies; the first goes through `data` once instead
    /// of twice.
    pub(super) fn read(text: &'a str, keeps_text: fn(Option<TypeShape>) -> bool) -> Option<Self> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let envelope = deserializer
            .deserialize_map(EnvelopeVisitor { keeps_text })
            .ok()?;
        deserializer.end().ok()?;
        Some(envelope)
    }
}

/// The envelope's keys the reading tells apart.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum Key {
    Id,
    Type,
    Timestamp,
    Data,
    #[serde(other)]
    Other,
}

struct EnvelopeVisitor {
    keeps_text: fn(Option<TypeShape>) -> bool,
}

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = RawEnvelope<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an envelope object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut envelope = RawEnvelope {
            id: None,
            event_type: None,
            timestamp: None,
            data: None,
        };
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Id => once(&mut envelope.id, "id", map.next_value()?)?,
                Key::Type => once(&mut envelope.event_type, "type", map.next_value()?)?,
                Key::Timestamp => once(&mut envelope.timestamp, "timestamp", map.next_value()?)?,
                Key::Data => {
                    let shape = envelope.event_type.and_then(type_shape);
                    let data = if envelope.event_type.is_some() && !(self.keeps_text)(shape) {
                        map.next_value_seed(DataFields)?
                    } else {
                        Data::Raw(map.next_value()?)
                    };
                    once(&mut envelope.data, "data", data)?;
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(envelope)
    }
}

/// Sets a field read once; a second occurrence is an error.
fn once<T, E: de::Error>(slot: &mut Option<T>, name: &'static str, value: T) -> Result<(), E> {
    if slot.replace(value).is_some() {
        return Err(E::duplicate_field(name));
    }
    Ok(())
}

/// The shape named by a raw `type`, if it is a string naming one.
fn type_shape(raw: &RawValue) -> Option<TypeShape> {
    TypeShape::of(&super::raw_str(Some(raw))?)
}

/// Reads `data` for its fields alone.
struct DataFields;

impl<'de> DeserializeSeed<'de> for DataFields {
    type Value = Data<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DataFields {
    type Value = Data<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        RawData::deserialize(de::value::MapAccessDeserializer::new(map)).map(Data::Fields)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Data::NotObject)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Data::NotObject)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Data::NotObject)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Data::NotObject)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Data::NotObject)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Data::NotObject)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Data::NotObject)
    }
}
