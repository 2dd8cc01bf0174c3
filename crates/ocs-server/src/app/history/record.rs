//! The changes of one inventory, collected while it is written and stored in its transaction,
//! so that a rolled-back inventory leaves no history either.

use ocs_proto::catalogue::Section;
use ocs_proto::Value;
use ocs_storage::history::Change;
use ocs_storage::{HostId, SectionDiff, SoftwareDiff, WriteTx};

use super::diff;

/// What an inventory changed so far.
pub struct Recorder {
    on: bool,
    changes: Vec<Change>,
}

impl Recorder {
    /// A recorder for an inventory of a known computer (`on`: the history is enabled). A new
    /// computer records only its creation ([`Recorder::created`]).
    pub fn new(on: bool) -> Recorder {
        Recorder {
            on,
            changes: Vec::new(),
        }
    }

    /// Whether writes must report their rows.
    pub fn on(&self) -> bool {
        self.on
    }

    /// A computer's first inventory.
    pub fn created(&mut self, name: Option<&str>) {
        self.changes.push(diff::created(name));
    }

    /// The device row, as stored before and as sent.
    pub fn hardware(&mut self, old: Option<&[Value]>, new: Option<&[Value]>) {
        if let (true, Some(old), Some(new)) = (self.on, old, new) {
            self.changes.extend(diff::hardware_changes(old, new));
        }
    }

    /// A section write.
    pub fn section(&mut self, section: &Section, written: &SectionDiff) {
        if self.on && (!written.added.is_empty() || !written.removed.is_empty()) {
            self.changes.extend(diff::section_changes(
                section,
                &written.removed,
                &written.added,
            ));
        }
    }

    /// The software reconciliation.
    pub fn software(&mut self, written: &SoftwareDiff) {
        if self.on {
            self.changes
                .extend(diff::software_changes(&written.removed, &written.added));
        }
    }

    /// How many changes were found.
    pub fn len(&self) -> usize {
        self.changes.len()
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Stores the changes in the inventory's transaction.
    pub async fn write(self, tx: &mut WriteTx, id: HostId, at: i64) -> ocs_storage::Result<()> {
        if self.changes.is_empty() {
            return Ok(());
        }
        tx.record_changes(id, at, &self.changes).await
    }
}
