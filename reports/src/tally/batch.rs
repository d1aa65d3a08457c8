//! Updates of the packed maps, collected and then folded in a tight loop. The maps are larger
//! than the caches, so nearly every update of a rarely seen key waits for memory (`perf annotate`
//! put a third of the report's time on those loads). Folded one by one between the parses of
//! the lines, such waits come one after the other: a line's parse is over a thousand
//! instructions, more than the processor looks ahead. Folded from a batch, a loop of a few dozen
//! instructions per update, the processor has the loads of many updates in flight at once.
//! The sums and the first service of each conversation are as if folded one by one, in order.

use super::sharded::Sharded;
use super::{Conversation, InOut, ServiceId};

/// Updates held before they are folded: large enough for the processor to overlap many,
/// small enough (40 bytes each, 40 KiB) to stay in the second-level cache beside the chunk.
const CAPACITY: usize = 1024;

/// One VPC-side record's counts under packed keys.
#[derive(Debug, Clone, Copy)]
pub(super) struct Update {
    pub conversation: u64,
    /// The packed destination; meaningless unless `has_destination`.
    pub destination: u64,
    pub bytes: u64,
    pub service: Option<ServiceId>,
    pub outbound: bool,
    /// The destination packs (else the record's destination is counted under its general key).
    pub has_destination: bool,
}

/// The updates not yet folded into the maps.
#[derive(Debug, Clone, Default)]
pub(super) struct Batch {
    updates: Vec<Update>,
}

impl Batch {
    /// Adds `update`; folds the batch into the maps when it is full.
    #[inline(always)]
    pub fn push(
        &mut self,
        update: Update,
        conversations: &mut Sharded<Conversation>,
        destinations: &mut Sharded<InOut>,
    ) {
        if self.updates.capacity() == 0 {
            self.updates.reserve_exact(CAPACITY);
        }
        self.updates.push(update);
        if self.updates.len() >= CAPACITY {
            self.fold(conversations, destinations);
        }
    }

    /// Folds every held update into the maps, in the order they came.
    #[inline(never)]
    pub fn fold(
        &mut self,
        conversations: &mut Sharded<Conversation>,
        destinations: &mut Sharded<InOut>,
    ) {
        // One map per loop: each loop's body is short, so more of its loads are in flight.
        for u in &self.updates {
            let conv = conversations.entry(u.conversation);
            conv.bytes.add(u.outbound, u.bytes);
            if conv.service.is_none() {
                conv.service = u.service;
            }
        }
        for u in self.updates.iter().filter(|u| u.has_destination) {
            destinations.entry(u.destination).add(u.outbound, u.bytes);
        }
        self.updates.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.updates.is_empty()
    }
}
