//! Network discovery (the guide's "Using IP discovery feature"; reference §5): electing the
//! computers that scan each network, storing and showing what they find, naming networks,
//! identifying devices, analysing a network with nmap, and looking up an address.
//!
//! [`election`] chooses and replaces the scanning computers after an inventory, [`results`]
//! stores what they send, [`networks`] the networks list and per-network device lists,
//! [`subnets`] the named networks and their CSV import, [`identified`] registering devices and
//! device types, [`vendor`] the MAC vendor of an address, [`analyze`] the Analyze job,
//! [`lookup`] the IP query, [`agents`] the scanning computers page (force, unelect).

pub mod agents;
pub mod analyze;
pub mod election;
pub mod identified;
pub mod lookup;
pub mod networks;
pub mod results;
pub mod subnets;
pub mod vendor;
