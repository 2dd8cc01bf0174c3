//! The OCS Inventory NG wire protocol as data: how agent bodies are encoded, how their XML is
//! read (with the original server's XML::Simple semantics), which inventory sections exist and
//! what each holds, and how replies are written.
//!
//! The server's entry point is [`read_request`]: one call from a body to a typed [`Request`].
//!
//! This crate does no I/O and knows nothing about databases or HTTP: callers hand it bytes and
//! get typed values back, so every rule here can be tested on captured agent traffic alone.

pub mod catalogue;
pub mod codec;
pub mod deviceid;
pub mod extra;
pub mod info;
pub mod inventory;
pub mod read;
pub mod reply;
pub mod reply_reader;
pub mod request;
pub mod software;
pub mod useragent;
pub mod value;
pub mod writer;
pub mod xml;

pub use codec::{BodyEncoding, CodecError, DecodeLimits};
pub use extra::ExtraSection;
pub use info::{InfoError, InfoFile};
pub use inventory::{Inventory, InventoryError};
pub use read::{read_request, ReadError, ReadLimits, ReadRequest};
pub use request::{AgentRequest, Query, Request, RequestError};
pub use value::Value;
pub use xml::{Element, XmlError};
