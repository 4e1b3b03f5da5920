//! The typed event kinds this release knows how to fold.

use crate::raw::RawObject;

/// `producersync.npn.activated`: a producer joined the monitored population.
pub const NPN_ACTIVATED: &str = "producersync.npn.activated";
/// `producersync.npn.deactivated`: a producer left it.
pub const NPN_DEACTIVATED: &str = "producersync.npn.deactivated";
const PROFILE_DELETED: &str = "id.producer.deleted";
const CONTRACT_PRODUCER_STATUS: &str = "contract.producer_status.updated";
const CONTRACT_UPDATED: &str = "contract.updated";

/// The version of this release's reading of a body ([`crate::interpret`]).
/// Each log entry stores the version that filled its columns, so that a
/// rebuild under the same version may take an entry's stored columns for
/// what its body says, without reading the body (see
/// [`EventKind::of_type_alone`]). Bump it whenever `interpret` derives
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
    /// The event an understood entry of `event_type` is, when the type
    /// says it all: no field of `data` goes into it (`data.npn` is checked
    /// and stored when the entry is interpreted). `None` for any other
    /// type. A rebuild folds such entries, a third of a typical log, from
    /// their stored columns.
    pub fn of_type_alone(event_type: &str) -> Option<Self> {
        TypeShape::of(event_type)?.kind_alone()
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
            PROFILE_DELETED => Self::ProfileDeleted,
            CONTRACT_PRODUCER_STATUS => Self::ContractProducer,
            CONTRACT_UPDATED => Self::Contract,
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
    fn exactly_the_types_without_data_are_said_by_their_type_alone() {
        const SAID_ALONE: [&str; 5] = [
            NPN_ACTIVATED,
            NPN_DEACTIVATED,
            "id.producer.deleted",
            "contract.producer_status.updated",
            "contract.updated",
        ];
        for event_type in crate::example_types() {
            let body = crate::render_example(&event_type, "whe_1", "2026-11-27T10:00:00Z", None)
                .expect("an example of a listed type renders");
            let interpreted = crate::interpret(&body)
                .outcome
                .expect("examples are understood");
            let alone = EventKind::of_type_alone(&event_type);
            if SAID_ALONE.contains(&event_type.as_str()) {
                assert_eq!(alone, Some(interpreted), "{event_type}");
            } else {
                assert_eq!(alone, None, "{event_type}");
            }
        }
        for event_type in SAID_ALONE {
            assert!(
                EventKind::of_type_alone(event_type).is_some(),
                "{event_type}"
            );
        }
        assert_eq!(EventKind::of_type_alone("no.such.type"), None);
    }
}
