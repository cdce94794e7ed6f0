//! One remote command of each kind per charger at a time, on this node: a second reset while
//! the first is still waiting for the charger answers 409 `busy` instead of queueing.

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
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.slots.in_flight.remove(&self.key);
    }
}
