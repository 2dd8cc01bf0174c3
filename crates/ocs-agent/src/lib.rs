//! The OCS Inventory NG agent for Linux, as a library so that every part can be tested
//! without the binary: collectors read the machine (or a captured copy of it) into inventory
//! sections, `state` remembers what the server was last told, `transport` speaks the OCS
//! protocol over HTTP(S), and `run`/`daemon` put them together the way the original
//! `ocsinventory-agent` does.
//!
//! Protocol details (XML shape, codec, section catalogue) live in `ocs-proto`; this crate
//! does the I/O.

pub mod base64;
pub mod cli;
pub mod collectors;
pub mod config;
pub mod daemon;
pub mod download;
pub mod error;
pub mod inventory;
pub mod ipdiscover;
pub mod netlink;
pub mod pci;
pub mod plugins;
pub mod run;
pub mod smbios;
pub mod state;
pub mod transport;

pub use error::Error;

/// The agent's version, as shown by `--version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
