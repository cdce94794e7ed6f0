//! One remote command of each kind per charger at a time, on this node: a second reset while
//! the first is still waiting for the charger answers 409 `busy` instead of queueing.

use std::sync::Arc;

use dashmap::DashSet;

/// Commands in flight, one per charger and kind.
#[derive(Debug, Default)]
pub struct CommandSlots {
    in_flight: DashSet<(String, &'static str)>,
}

/// Holds a (charger, kind) slot until dropped.
pub(crate) struct Slot<'a> {
    slots: &'a CommandSlots,
    key: (String, &'static str),
}

impl CommandSlots {
    pub(crate) fn acquire(&self, charger_id: &str, kind: &'static str) -> Option<Slot<'_>> {
        let key = (charger_id.to_owned(), kind);
        self.in_flight.insert(key.clone()).then_some(Slot { slots: self, key })
    }

    /// [`CommandSlots::acquire`] for a task of its own: the slot is taken before the task
    /// starts, so two tasks for one charger can never both run.
    pub(crate) fn acquire_owned(self: &Arc<Self>, charger_id: &str, kind: &'static str) -> Option<OwnedSlot> {
        let key = (charger_id.to_owned(), kind);
        self.in_flight.insert(key.clone()).then(|| OwnedSlot {
            slots: Arc::clone(self),
            key,
        })
    }
}

/// A slot a spawned task holds until it ends.
pub(crate) struct OwnedSlot {
    slots: Arc<CommandSlots>,
    key: (String, &'static str),
}

impl Drop for OwnedSlot {
    fn drop(&mut self) {
        self.slots.in_flight.remove(&self.key);
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.slots.in_flight.remove(&self.key);
    }
}
