//! The typed event kinds this release knows how to fold.

use crate::raw::RawObject;

/// `producersync.npn.activated`: a producer joined the monitored population.
pub const NPN_ACTIVATED: &str = "producersync.npn.activated";
/// `producersync.npn.deactivated`: a producer left it.
pub const NPN_DEACTIVATED: &str = "producersync.npn.deactivated";

/// The version of this release's reading of a body ([`crate::interpret`]).
/// Each log entry stores the version that filled its columns, so that a
/// rebuild under the same version may take an entry's stored columns for
/// what its body says, without reading the body (see
/// [`EventKind::from_columns`]). Bump it whenever `interpret` derives
/// anything differently from the same body.
pub const INTERPRETER_VERSION: i32 = 1;

/// The producer sub-records AgentSync reports, each keyed by its own `data.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubRecordKind {
    /// `id.producer.address.*`
    Address,
    /// `id.producer.phone.*`
    Phone,
    /// `id.producer.bank_account.*`
    BankAccount,
    /// `id.producer.errors_and_omissions.*`
    ErrorsAndOmissions,
}

impl SubRecordKind {
    /// Every sub-record kind, in a fixed order.
    pub const ALL: [SubRecordKind; 4] = [
        SubRecordKind::Address,
        SubRecordKind::Phone,
        SubRecordKind::BankAccount,
        SubRecordKind::ErrorsAndOmissions,
    ];

    /// The segment of the event type that names this kind.
    pub fn type_segment(self) -> &'static str {
        match self {
            SubRecordKind::Address => "address",
            SubRecordKind::Phone => "phone",
            SubRecordKind::BankAccount => "bank_account",
            SubRecordKind::ErrorsAndOmissions => "errors_and_omissions",
        }
    }

    fn from_type_segment(segment: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.type_segment() == segment)
    }
}

/// What an understood event says, with the fields the fold needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `producersync.updates_available`: NIPR data was refreshed on `run_date`.
    UpdatesAvailable {
        /// `data.runDate`, as sent (a calendar date).
        run_date: String,
    },
    /// `producersync.npn.activated`: the producer joined the monitored population.
    NpnActivated,
    /// `producersync.npn.deactivated`: the producer left it.
    NpnDeactivated,
    /// `id.producer.updated`: the whole profile as it is now.
    ProfileUpdated {
        /// `data`, minus nothing: sensitive keys are masked on the way out,
        /// not here.
        profile: RawObject,
    },
    /// `id.producer.deleted`: the profile was deleted; the NPN's history stays.
    ProfileDeleted,
    /// `id.producer.<kind>.updated`: one sub-record as it is now, in
    /// `data` (read back with [`crate::record_payload`]: states refer to
    /// the entry instead of keeping a copy).
    SubRecordUpdated {
        /// Which kind of sub-record.
        kind: SubRecordKind,
        /// `data.id`.
        id: String,
    },
    /// `id.producer.<kind>.deleted`.
    SubRecordDeleted {
        /// Which kind of sub-record.
        kind: SubRecordKind,
        /// `data.id`.
        id: String,
    },
    /// A known type that is kept in the producer's history but changes no
    /// folded attribute yet (`contract.*`).
    HistoryOnly,
}

impl EventKind {
    /// `data.id` of a sub-record event; `None` for any other kind.
    pub fn record_id(&self) -> Option<&str> {
        match self {
            Self::SubRecordUpdated { id, .. } | Self::SubRecordDeleted { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Whether the log's columns say all of this event: its type, and for
    /// a sub-record event its record id (`data.npn` is checked and stored
    /// when the entry is interpreted). Every kind but a profile update
    /// (the profile) and `updates_available` (its run date): three
    /// quarters of a typical log, which a rebuild folds from those columns
    /// ([`EventKind::from_columns`]).
    pub fn said_by_columns(&self) -> bool {
        !matches!(
            self,
            Self::ProfileUpdated { .. } | Self::UpdatesAvailable { .. }
        )
    }

    /// The event of an understood entry whose columns say all of it
    /// ([`EventKind::said_by_columns`]), from its stored type and record
    /// id (ignored but for a sub-record event). `None` for a type whose
    /// event the columns cannot say.
    pub fn from_columns(event_type: &str, record_id: &str) -> Option<Self> {
        let id = || record_id.to_owned();
        match TypeShape::of(event_type)? {
            TypeShape::SubRecordUpdated(kind) => Some(Self::SubRecordUpdated { kind, id: id() }),
            TypeShape::SubRecordDeleted(kind) => Some(Self::SubRecordDeleted { kind, id: id() }),
            shape => shape.kind_alone(),
        }
    }
}

/// How a known event type is shaped, before its data is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeShape {
    UpdatesAvailable,
    Activated,
    Deactivated,
    ProfileUpdated,
    ProfileDeleted,
    SubRecordUpdated(SubRecordKind),
    SubRecordDeleted(SubRecordKind),
    ContractProducer,
    Contract,
}

impl TypeShape {
    pub(crate) fn of(event_type: &str) -> Option<Self> {
        let shape = match event_type {
            "producersync.updates_available" => Self::UpdatesAvailable,
            NPN_ACTIVATED => Self::Activated,
            NPN_DEACTIVATED => Self::Deactivated,
            "id.producer.updated" => Self::ProfileUpdated,
            "id.producer.deleted" => Self::ProfileDeleted,
            "contract.producer_status.updated" => Self::ContractProducer,
            "contract.updated" => Self::Contract,
            other => return Self::sub_record(other),
        };
        Some(shape)
    }

    fn sub_record(event_type: &str) -> Option<Self> {
        let rest = event_type.strip_prefix("id.producer.")?;
        let (segment, action) = rest.rsplit_once('.')?;
        let kind = SubRecordKind::from_type_segment(segment)?;
        match action {
            "updated" => Some(Self::SubRecordUpdated(kind)),
            "deleted" => Some(Self::SubRecordDeleted(kind)),
            _ => None,
        }
    }

    /// The event of this shape when its type says it all: no field of
    /// `data` goes into it.
    pub(crate) fn kind_alone(self) -> Option<EventKind> {
        match self {
            Self::Activated => Some(EventKind::NpnActivated),
            Self::Deactivated => Some(EventKind::NpnDeactivated),
            Self::ProfileDeleted => Some(EventKind::ProfileDeleted),
            Self::ContractProducer | Self::Contract => Some(EventKind::HistoryOnly),
            Self::UpdatesAvailable
            | Self::ProfileUpdated
            | Self::SubRecordUpdated(_)
            | Self::SubRecordDeleted(_) => None,
        }
    }

    /// Whether events of this type must name a producer.
    pub(crate) fn needs_npn(self) -> bool {
        !matches!(self, Self::UpdatesAvailable | Self::Contract)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_record_types_are_recognised() {
        assert_eq!(
            TypeShape::of("id.producer.errors_and_omissions.deleted"),
            Some(TypeShape::SubRecordDeleted(
                SubRecordKind::ErrorsAndOmissions
            ))
        );
        assert_eq!(
            TypeShape::of("id.producer.bank_account.updated"),
            Some(TypeShape::SubRecordUpdated(SubRecordKind::BankAccount))
        );
        assert_eq!(TypeShape::of("id.producer.pets.updated"), None);
        assert_eq!(TypeShape::of("id.producer.phone.created"), None);
    }

    #[test]
    fn the_columns_say_every_event_but_profiles_and_run_dates_exactly() {
        for event_type in crate::example_types() {
            let body = crate::render_example(&event_type, "whe_1", "2026-11-27T10:00:00Z", None)
                .expect("an example of a listed type renders");
            let interpreted = crate::interpret(&body)
                .outcome
                .expect("examples are understood");
            let record_id = interpreted.record_id().unwrap_or_default();
            let from_columns = EventKind::from_columns(&event_type, record_id);
            if interpreted.said_by_columns() {
                assert_eq!(from_columns, Some(interpreted), "{event_type}");
            } else {
                assert_eq!(from_columns, None, "{event_type}");
            }
        }
        assert_eq!(
            EventKind::from_columns("id.producer.phone.deleted", ""),
            Some(EventKind::SubRecordDeleted {
                kind: SubRecordKind::Phone,
                id: String::new()
            })
        );
        assert_eq!(EventKind::from_columns("no.such.type", "x"), None);
    }

    /// What a rebuild takes from the log's columns instead of the body, for
    /// bodies of every example type and a few edge cases, pinned to
    /// [`INTERPRETER_VERSION`]. When this fails, the interpreter now fills
    /// those columns differently: bump the version (so rebuilds read every
    /// body again) and update the expected text.
    #[test]
    fn what_the_columns_say_is_pinned_to_the_interpreter_version() {
        let mut bodies: Vec<Vec<u8>> = crate::example_types()
            .iter()
            .map(|event_type| {
                crate::render_example(
                    event_type,
                    "whe_1",
                    "2026-11-27T10:00:00+01:00",
                    Some("0042"),
                )
                .expect("an example renders")
            })
            .collect();
        for edge in [
            r#"{"id":"e2","type":"producersync.npn.activated","data":{"npn":17}}"#,
            r#"{"id":"e3","type":"producersync.npn.activated","timestamp":"2026-11-27T10:00:00.5","data":{"npn":" 9 "}}"#,
            r#"{"id":"e4","type":"id.producer.phone.updated","timestamp":null,"data":{"npn":"1","id":""}}"#,
            r#"{"id":"e5","type":"producersync.npn.activated","data":{"npn":"x"}}"#,
            r#"{"id":"e6","type":"no.such.type","data":{"npn":"1"}}"#,
        ] {
            bodies.push(edge.as_bytes().to_vec());
        }
        let said: Vec<String> = bodies
            .iter()
            .map(|body| {
                let read = crate::interpret(body);
                let record_id = read.outcome.as_ref().ok().and_then(EventKind::record_id);
                format!(
                    "{:?} {:?} {:?} {:?} {:?} {}",
                    read.event_type,
                    read.event_id,
                    read.occurred_at,
                    read.npn,
                    record_id,
                    read.columns_say_all()
                )
            })
            .collect();
        let expected = EXPECTED_UNDER_VERSION_1.lines().collect::<Vec<_>>();
        assert_eq!(
            INTERPRETER_VERSION, 1,
            "update the expected text with the version"
        );
        assert_eq!(said, expected);
    }

    const EXPECTED_UNDER_VERSION_1: &str = r#"Some("producersync.updates_available") Some("whe_1") Some(1795770000000000) None None false
Some("producersync.npn.activated") Some("whe_1") Some(1795770000000000) Some("42") None true
Some("producersync.npn.deactivated") Some("whe_1") Some(1795770000000000) Some("42") None true
Some("id.producer.updated") Some("whe_1") Some(1795770000000000) Some("42") None false
Some("id.producer.deleted") Some("whe_1") Some(1795770000000000) Some("42") None true
Some("id.producer.address.updated") Some("whe_1") Some(1795770000000000) Some("42") Some("addr_01") true
Some("id.producer.address.deleted") Some("whe_1") Some(1795770000000000) Some("42") Some("addr_01") true
Some("id.producer.phone.updated") Some("whe_1") Some(1795770000000000) Some("42") Some("ph_01") true
Some("id.producer.phone.deleted") Some("whe_1") Some(1795770000000000) Some("42") Some("ph_01") true
Some("id.producer.bank_account.updated") Some("whe_1") Some(1795770000000000) Some("42") Some("ba_01") true
Some("id.producer.bank_account.deleted") Some("whe_1") Some(1795770000000000) Some("42") Some("ba_01") true
Some("id.producer.errors_and_omissions.updated") Some("whe_1") Some(1795770000000000) Some("42") Some("eo_01") true
Some("id.producer.errors_and_omissions.deleted") Some("whe_1") Some(1795770000000000) Some("42") Some("eo_01") true
Some("contract.producer_status.updated") Some("whe_1") Some(1795770000000000) Some("42") None true
Some("contract.updated") Some("whe_1") Some(1795770000000000) None None true
Some("producersync.npn.activated") Some("e2") None Some("17") None true
Some("producersync.npn.activated") Some("e3") Some(1795773600500000) Some("9") None true
Some("id.producer.phone.updated") Some("e4") None Some("1") Some("") true
Some("producersync.npn.activated") Some("e5") None None None false
Some("no.such.type") Some("e6") None Some("1") None false"#;
}
