//! A rebuild's second step: the collected parts of a pass, each sorted by
//! NPN, merged and folded one producer after another.

use crate::fold::fold_owned;
use crate::rebuild::collect::{Collected, CollectedPart};
use crate::state::ProducerState;

/// One producer's folded state, as a rebuild writes it.
pub(super) struct Folded {
    /// The NPN (normalised: its decimal text is the stored NPN).
    pub(super) npn: u64,
    /// The state of every entry of the producer.
    pub(super) state: ProducerState,
    /// The producer's last log position, foldable or not.
    pub(super) last_position: i64,
}

/// The producers of a pass in NPN order, each folded from its entries in
/// log order, as they are taken. A producer with no foldable entry gets no
/// state.
pub(super) struct ByProducer<'a> {
    parts: &'a mut [CollectedPart],
    /// The next record of each part.
    next: Vec<usize>,
}

impl<'a> ByProducer<'a> {
    /// The producers of `parts`, each sorted by [`CollectedPart::sort`].
    pub(super) fn new(parts: &'a mut [CollectedPart]) -> Self {
        let next = vec![0; parts.len()];
        Self { parts, next }
    }

    /// The part holding the first record left in (NPN, position) order.
    fn first_part(&self) -> Option<(usize, Collected)> {
        (0..self.parts.len())
            .filter_map(|part| Some((part, *self.parts[part].records().get(self.next[part])?)))
            .min_by_key(|(_, record)| (record.npn, record.position))
    }
}

impl Iterator for ByProducer<'_> {
    type Item = Folded;

    fn next(&mut self) -> Option<Folded> {
        loop {
            let (_, first) = self.first_part()?;
            let npn = first.npn;
            let mut state = ProducerState::default();
            let mut last_position = first.position;
            while let Some((part, record)) = self.first_part().filter(|(_, r)| r.npn == npn) {
                self.next[part] += 1;
                last_position = last_position.max(record.position);
                if let Some(event) = self.parts[part].take_event(&record) {
                    state = fold_owned(state, event);
                }
            }
            if state.event_count > 0 {
                return Some(Folded {
                    npn,
                    state,
                    last_position,
                });
            }
        }
    }
}
