//! A rebuild's first step: every log entry of a pass, interpreted once and
//! kept in a compact form ([`Collected`]), then sorted by NPN. The fold
//! then takes one producer's entries after another ([`super::by_producer`]):
//! each state is built while it is in cache and written at once, instead
//! of a table of every producer's state being looked up at every event
//! (that table's cache misses were half the cost of a fold, and its size
//! bounded how many producers a pass could hold).

use agentsync_events::{EventKind, RawObject, SubRecordKind};
use event_store::{RebuildRow, RowContent, StoreError, StoredColumns};

use crate::event::FoldEvent;
use crate::fold::fold_global;
use crate::projector::ProjectorError;
use crate::state::{GlobalState, Stamp};

/// What the fold does with an entry, without its ids (kept in the part's
/// text). The kinds that change nothing but counts and times
/// (`updates_available` naming an NPN, `contract.*`) are one kind: the
/// producer fold treats them alike, and the global facts are folded while
/// collecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// This release cannot fold the entry; it still counts towards its
    /// producer's last position.
    Unfoldable,
    Activated,
    Deactivated,
    /// The profile is the part's profile at this index: kept as the
    /// interpreter checked it, so the fold does not parse it a second time
    /// (as it did when the profile was kept as text).
    ProfileUpdated(u32),
    ProfileDeleted,
    RecordUpdated(SubRecordKind),
    RecordDeleted(SubRecordKind),
    CountsOnly,
}

/// The room reserved per entry for its ids: an event id and a sub-record
/// id of the lengths AgentSync uses (`whe_…`, `addr_…`).
const TEXT_PER_ENTRY: usize = 24;
/// Room is reserved for a profile per this many entries (profile updates
/// are a quarter of the bench's mix).
const ENTRIES_PER_PROFILE: usize = 4;

/// One entry naming a producer, as collected: 48 bytes, its ids kept in
/// the part's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Collected {
    /// The NPN as a number (NPNs are stored normalised: digits, no leading
    /// zeros), so sorting compares integers, not strings on the heap.
    pub(super) npn: u64,
    /// Log position: the order a producer's entries are folded in, and
    /// where the entry's payload is.
    pub(super) position: i64,
    time: i64,
    /// Where the event id starts in the part's text; a sub-record id
    /// follows it (the detail).
    text_start: usize,
    event_id_len: u32,
    detail_len: u32,
    change: Change,
}

/// One collecting thread's part of a pass: every entry of the pages it
/// read.
pub(super) struct CollectedPart {
    records: Vec<Collected>,
    /// The ids of the records, one after another: one allocation, not one
    /// per id.
    text: String,
    /// The profiles of the records that update one, as interpreted; each
    /// is taken by the fold, which reads every record once.
    profiles: Vec<Option<RawObject>>,
    /// The global facts of this part's entries; the parts' and passes'
    /// facts are merged.
    pub(super) global: GlobalState,
    /// Entries of this part read (with or without an NPN).
    pub(super) entries_read: i64,
}

impl CollectedPart {
    /// An empty part with room for `entries` entries: the vectors are not
    /// grown (and copied, and their new pages zeroed by the kernel)
    /// mid-pass when the estimate holds.
    pub(super) fn new(entries: usize) -> Self {
        Self {
            records: Vec::with_capacity(entries),
            text: String::with_capacity(entries * TEXT_PER_ENTRY),
            profiles: Vec::with_capacity(entries / ENTRIES_PER_PROFILE),
            global: GlobalState::default(),
            entries_read: 0,
        }
    }

    /// Interprets every entry of one page of the log.
    pub(super) fn collect_page(&mut self, page: &[RebuildRow]) -> Result<(), ProjectorError> {
        for entry in page {
            self.entries_read += 1;
            let npn = entry
                .npn
                .as_deref()
                .map(|npn| normalised_number(npn).ok_or_else(|| not_a_number(entry.position, npn)))
                .transpose()?;
            match &entry.content {
                RowContent::Columns(columns) => {
                    // Never a global fact (`updates_available` is read in
                    // full), so only a producer's entry is kept.
                    if let Some(npn) = npn {
                        self.push_columns(npn, entry, columns);
                    }
                }
                RowContent::Body(body) => {
                    let event = FoldEvent::from_body(entry.position, body, entry.received_at);
                    if let Some(event) = &event {
                        self.global = fold_global(std::mem::take(&mut self.global), event);
                    }
                    if let Some(npn) = npn {
                        self.push_event(npn, entry.position, event);
                    }
                }
            }
        }
        Ok(())
    }

    /// Keeps an entry read from its stored columns, its ids copied from
    /// the row into the part's text: no event is built, and no id is
    /// allocated on its own (three strings per entry before).
    fn push_columns(&mut self, npn: u64, entry: &RebuildRow, columns: &StoredColumns) {
        // The record id is the row's: the kind is only asked its shape.
        match EventKind::from_columns(columns.event_type(), "") {
            Some(kind) => self.push_kind(
                npn,
                entry.position,
                columns.occurred_at.unwrap_or(entry.received_at),
                columns.event_id(),
                kind,
                &columns.record_id,
            ),
            None => self.push_unfoldable(npn, entry.position),
        }
    }

    /// Keeps an entry read from its body, as interpreted.
    fn push_event(&mut self, npn: u64, position: i64, event: Option<FoldEvent>) {
        let Some(mut event) = event else {
            self.push_unfoldable(npn, position);
            return;
        };
        let record_id = match &mut event.kind {
            EventKind::SubRecordUpdated { id, .. } | EventKind::SubRecordDeleted { id, .. } => {
                std::mem::take(id)
            }
            _ => String::new(),
        };
        let (time, event_id) = (event.stamp.time, event.stamp.event_id);
        self.push_kind(npn, position, time, &event_id, event.kind, &record_id);
    }

    fn push_unfoldable(&mut self, npn: u64, position: i64) {
        self.records.push(Collected {
            npn,
            position,
            time: 0,
            text_start: self.text.len(),
            event_id_len: 0,
            detail_len: 0,
            change: Change::Unfoldable,
        });
    }

    /// Keeps an entry that does `kind` at `time`: `event_id`, and for a
    /// sub-record event `record_id`, go into the part's text.
    fn push_kind(
        &mut self,
        npn: u64,
        position: i64,
        time: i64,
        event_id: &str,
        kind: EventKind,
        record_id: &str,
    ) {
        let text_start = self.text.len();
        self.text.push_str(event_id);
        let detail_start = self.text.len();
        let change = match kind {
            EventKind::NpnActivated => Change::Activated,
            EventKind::NpnDeactivated => Change::Deactivated,
            EventKind::ProfileUpdated { profile } => {
                self.profiles.push(Some(profile));
                Change::ProfileUpdated(text_len(self.profiles.len() - 1))
            }
            EventKind::ProfileDeleted => Change::ProfileDeleted,
            EventKind::SubRecordUpdated { kind, .. } => {
                self.text.push_str(record_id);
                Change::RecordUpdated(kind)
            }
            EventKind::SubRecordDeleted { kind, .. } => {
                self.text.push_str(record_id);
                Change::RecordDeleted(kind)
            }
            EventKind::UpdatesAvailable { .. } | EventKind::HistoryOnly => Change::CountsOnly,
        };
        self.records.push(Collected {
            npn,
            position,
            time,
            text_start,
            event_id_len: text_len(detail_start - text_start),
            detail_len: text_len(self.text.len() - detail_start),
            change,
        });
    }

    /// Sorts the records by producer, and each producer's in log order,
    /// and lays their ids out in that order too. (Moving the profiles into
    /// that order as well showed no gain, and higher memory peaks in the
    /// runs measured.)
    ///
    /// The fold reads the records in sorted order; with the ids left in log
    /// order, every record it read was a cache miss on the text (93% of the
    /// time spent turning records back into events). Copying the text in
    /// one tight loop here, on the collecting thread, lets those misses
    /// overlap instead.
    pub(super) fn sort(&mut self) {
        self.records
            .sort_unstable_by_key(|record| (record.npn, record.position));
        let mut text = String::with_capacity(self.text.len());
        for record in &mut self.records {
            let end = record.text_start + record.event_id_len as usize + record.detail_len as usize;
            let start = text.len();
            text.push_str(self.text.get(record.text_start..end).unwrap_or_default());
            record.text_start = start;
        }
        self.text = text;
    }

    /// The records, sorted once [`CollectedPart::sort`] ran.
    pub(super) fn records(&self) -> &[Collected] {
        &self.records
    }

    /// The event a record was collected from, as the fold takes it (a
    /// profile is moved out, not copied: each record is taken once); `None`
    /// for an entry this release cannot fold.
    pub(super) fn take_event(&mut self, record: &Collected) -> Option<FoldEvent> {
        let text = &self.text[record.text_start..];
        let (event_id, rest) = text.split_at(record.event_id_len as usize);
        let detail = &rest[..record.detail_len as usize];
        let record_id = || detail.to_owned();
        let kind = match record.change {
            Change::Unfoldable => return None,
            Change::Activated => EventKind::NpnActivated,
            Change::Deactivated => EventKind::NpnDeactivated,
            Change::ProfileUpdated(index) => EventKind::ProfileUpdated {
                profile: self.profiles.get_mut(index as usize)?.take()?,
            },
            Change::ProfileDeleted => EventKind::ProfileDeleted,
            Change::RecordUpdated(kind) => EventKind::SubRecordUpdated {
                kind,
                id: record_id(),
            },
            Change::RecordDeleted(kind) => EventKind::SubRecordDeleted {
                kind,
                id: record_id(),
            },
            Change::CountsOnly => EventKind::HistoryOnly,
        };
        Some(FoldEvent {
            position: record.position,
            npn: None,
            stamp: Stamp {
                time: record.time,
                event_id: event_id.to_owned(),
            },
            kind,
        })
    }
}

/// The length of an id in the part's text, or a profile's index. Bodies,
/// and so ids, are far smaller than 4 GiB, and a pass holds far fewer
/// than 4 billion entries.
fn text_len(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// A stored NPN as a number, when it is normalised (digits, no leading
/// zero), so that the number's decimal text is the NPN again: `parse`
/// alone would take `"+5"` and `"0042"` and write them back as other NPNs.
fn normalised_number(npn: &str) -> Option<u64> {
    let digits = npn.bytes().all(|b| b.is_ascii_digit());
    let leading_zero = npn.len() > 1 && npn.starts_with('0');
    (digits && !leading_zero)
        .then(|| npn.parse().ok())
        .flatten()
}

fn not_a_number(position: i64, npn: &str) -> ProjectorError {
    ProjectorError::Store(StoreError::Corrupt(format!(
        "log entry {position} is stored under NPN {npn:?}, which is not a normalised NPN"
    )))
}

#[cfg(test)]
mod tests;
