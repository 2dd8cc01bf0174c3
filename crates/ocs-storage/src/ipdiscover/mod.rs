//! Network discovery (reference §5, §8.6): which computers scan which network (the `devices`
//! rows `IPDISCOVER`), what they found (`netmap`), the names administrators give networks
//! (`subnets`), the devices they identified (`identified_devices`) and their types
//! (`device_types`), and the Analyze jobs and their classifications.
//!
//! [`election`] owns the election state, [`netmap`] storing what scanners report,
//! [`networks`] the networks list and its counts, [`devices`] the per-network device lists,
//! [`subnets`] the named networks, [`identified`] the identified devices and device types,
//! [`lookup`] the IP query, [`analysis`] the Analyze jobs and their results, [`scanners`] the
//! scanning computers page (who scans what and why; force, unelect, never).

pub mod analysis;
pub mod devices;
pub mod election;
pub mod identified;
pub mod lookup;
pub mod netmap;
pub mod networks;
pub mod scanners;
pub mod subnets;
