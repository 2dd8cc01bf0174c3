//! Groups of computers: static groups whose members are added by hand, dynamic groups whose
//! members are computed from saved search criteria (with computers forced in or out), and the
//! settings a group gives its members.

pub mod settings;

/// The ID of a group (a row of `groups`, never a `hardware` row).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub i64);
