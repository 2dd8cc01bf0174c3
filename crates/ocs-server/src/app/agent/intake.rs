//! Reading agent bodies: inflate, parse and map to typed rows, off the async runtime and with
//! bounded concurrency, so that no body, however hostile, can stall the server or exhaust
//! its memory.
//!
//! Two lanes. Small bodies that inflate to little (PROLOGs, DOWNLOAD and NOTIFY reports:
//! a few hundred bytes) take the *light* lane, whose work is microseconds, so they never
//! wait behind inventories. Everything else takes the *heavy* lane: at most
//! `limits.max_concurrent_parses` bodies are read at once, at most `max_queued_parses` more
//! wait for a slot, and a body that cannot get one within `parse_queue_timeout_secs` is
//! refused with 503 and `Retry-After` (the agent comes back at its next run). Memory is then
//! bounded by the slots times (inflated size + the mapped rows): `ocs_proto::read_request`
//! maps an inventory while it reads it, without a tree of the whole document, and the
//! inflated document is dropped before the services run.
//!
//! Bodies themselves are held against a budget (`max_buffered_body_bytes`) while they are
//! received and processed, so many large uploads at once are refused rather than buffered.

use std::sync::Arc;
use std::time::Duration;

use ocs_proto::codec::DecodeLimits;
use ocs_proto::inventory::{Inventory, InventoryError};
use ocs_proto::xml::XmlLimits;
use ocs_proto::{read_request, BodyEncoding, ReadError, ReadLimits, Request};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::app::agent::{codec_error, request_error, INFLATED_TOO_LARGE};
use crate::app::AppError;
use crate::config::Config;

/// Bodies up to this size (as sent) may take the light lane.
const LIGHT_BODY_BYTES: usize = 64 << 10;
/// ... if they inflate to no more than this.
const LIGHT_INFLATED_BYTES: usize = 256 << 10;
/// Light-lane bodies read at once; their work is tiny, the bound only caps threads.
const LIGHT_SLOTS: usize = 16;
/// Bodies this small are not counted against the body budget: their memory is negligible
/// and PROLOGs must not wait for it.
const UNCOUNTED_BODY_BYTES: usize = 64 << 10;
/// Granularity of the body budget.
const BUDGET_UNIT: usize = 1 << 10;

/// A body read into a request, ready for the services.
#[derive(Debug)]
pub struct Prepared {
    /// Encoding of the body, which the reply uses.
    pub encoding: BodyEncoding,
    /// The typed request; an INVENTORY is already mapped into rows.
    pub request: Request,
}

impl Prepared {
    /// The mapped inventory of an INVENTORY request, or why there is none.
    pub fn inventory(&self) -> Result<&Inventory, AppError> {
        match &self.request {
            Request::Inventory {
                inventory: Ok(inv), ..
            } => Ok(inv),
            Request::Inventory {
                inventory: Err(e), ..
            } => Err(inventory_error(e.clone())),
            other => Err(AppError::bad_request(
                "E_BAD_QUERY",
                format!("a {} request, not an INVENTORY", other.query().as_str()),
            )),
        }
    }
}

/// A refused body, with what could be learnt of the request for the log line.
#[derive(Debug)]
pub struct Refused {
    /// Why.
    pub error: AppError,
    /// The encoding, once known.
    pub encoding: BodyEncoding,
}

/// Held while a body is in memory; releases its share of the budget when dropped.
#[derive(Debug)]
pub struct BodyPermit {
    _permit: Option<OwnedSemaphorePermit>,
}

/// The lanes and budgets, shared by every request of the process.
#[derive(Debug)]
pub struct Intake {
    light: Arc<Semaphore>,
    heavy: Arc<Semaphore>,
    heavy_admission: Arc<Semaphore>,
    queue_timeout: Duration,
    body_budget: Arc<Semaphore>,
    body_budget_units: usize,
    xml: XmlLimits,
    max_inflated_bytes: usize,
    max_rows_per_section: usize,
}

impl Intake {
    /// Lanes sized from the configuration.
    pub fn new(config: &Config) -> Intake {
        let limits = &config.limits;
        let slots = match limits.max_concurrent_parses {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let body_budget_units = (limits.max_buffered_body_bytes / BUDGET_UNIT).max(1);
        Intake {
            light: Arc::new(Semaphore::new(LIGHT_SLOTS)),
            heavy: Arc::new(Semaphore::new(slots)),
            heavy_admission: Arc::new(Semaphore::new(slots + limits.max_queued_parses)),
            queue_timeout: Duration::from_secs(limits.parse_queue_timeout_secs),
            body_budget: Arc::new(Semaphore::new(body_budget_units)),
            body_budget_units,
            xml: config.xml_limits(),
            max_inflated_bytes: limits.max_inflated_bytes,
            max_rows_per_section: limits.max_rows_per_section,
        }
    }

    /// Reserves room for a body of `declared` bytes (`None`: unknown, so the largest
    /// accepted), or refuses it with 503 when the budget is spent.
    pub fn reserve_body(
        &self,
        declared: Option<usize>,
        max_body_bytes: usize,
    ) -> Result<BodyPermit, AppError> {
        let size = declared.unwrap_or(max_body_bytes).min(max_body_bytes);
        if declared.is_some() && size <= UNCOUNTED_BODY_BYTES {
            return Ok(BodyPermit { _permit: None });
        }
        let units = size.div_ceil(BUDGET_UNIT).clamp(1, self.body_budget_units);
        let units = u32::try_from(units).unwrap_or(u32::MAX);
        match Arc::clone(&self.body_budget).try_acquire_many_owned(units) {
            Ok(permit) => Ok(BodyPermit {
                _permit: Some(permit),
            }),
            Err(_) => Err(AppError::Overloaded(
                "too many large request bodies at once; try again later".into(),
            )),
        }
    }

    /// Decodes, parses and maps a body.
    pub async fn prepare(&self, raw: bytes::Bytes, try_others: bool) -> Result<Prepared, Refused> {
        if raw.len() <= LIGHT_BODY_BYTES {
            let permit = Arc::clone(&self.light)
                .acquire_owned()
                .await
                .map_err(closed)?;
            let cap = LIGHT_INFLATED_BYTES.min(self.max_inflated_bytes);
            match self.run(permit, raw.clone(), try_others, cap).await {
                // Inflated past the light cap: a real inventory, or a bomb, for the heavy lane.
                Err(Refused {
                    error:
                        AppError::TooLarge {
                            code: INFLATED_TOO_LARGE,
                            ..
                        },
                    ..
                }) if cap < self.max_inflated_bytes => {}
                done => return done,
            }
        }
        let _admitted = Arc::clone(&self.heavy_admission)
            .try_acquire_owned()
            .map_err(|_| overloaded("too many inventories waiting to be read"))?;
        let permit =
            tokio::time::timeout(self.queue_timeout, Arc::clone(&self.heavy).acquire_owned())
                .await
                .map_err(|_| overloaded("no parse slot freed in time"))?
                .map_err(closed)?;
        self.run(permit, raw, try_others, self.max_inflated_bytes)
            .await
    }

    async fn run(
        &self,
        permit: OwnedSemaphorePermit,
        raw: bytes::Bytes,
        try_others: bool,
        max_inflated_bytes: usize,
    ) -> Result<Prepared, Refused> {
        let xml = self.xml;
        let max_rows = self.max_rows_per_section;
        let decode = DecodeLimits {
            max_inflated_bytes,
            try_others,
        };
        // The permit moves into the task: if the request is abandoned the work still counts
        // against its lane until it ends.
        tokio::task::spawn_blocking(move || {
            let prepared = read_body(&raw, decode, &xml, max_rows);
            drop(permit);
            prepared
        })
        .await
        .map_err(|e| Refused {
            error: AppError::Internal(format!("body reading task failed: {e}")),
            encoding: BodyEncoding::Zlib,
        })?
    }
}

fn overloaded(why: &str) -> Refused {
    Refused {
        error: AppError::Overloaded(format!("server busy: {why}; try again later")),
        encoding: BodyEncoding::Zlib,
    }
}

fn closed(_: tokio::sync::AcquireError) -> Refused {
    Refused {
        error: AppError::Internal("the server is shutting down".into()),
        encoding: BodyEncoding::Zlib,
    }
}

/// The blocking work: every step is linear in the body and stops at its limit.
pub fn read_body(
    raw: &[u8],
    decode: DecodeLimits,
    xml: &XmlLimits,
    max_rows_per_section: usize,
) -> Result<Prepared, Refused> {
    let limits = ReadLimits {
        decode,
        xml: *xml,
        max_rows_per_section,
    };
    match read_request(raw, &limits) {
        Ok(read) => Ok(Prepared {
            encoding: read.encoding,
            request: read.request,
        }),
        Err(ReadError::Body(e)) => Err(Refused {
            error: codec_error(e),
            encoding: BodyEncoding::Zlib,
        }),
        Err(ReadError::Request { error, encoding }) => Err(Refused {
            error: request_error(error),
            encoding,
        }),
    }
}

/// Maps an inventory the protocol crate refused.
pub fn inventory_error(e: InventoryError) -> AppError {
    match e {
        InventoryError::TooManyRows { .. } => AppError::TooLarge {
            code: "E_TOO_MANY_ROWS",
            message: e.to_string(),
        },
        InventoryError::MissingContent | InventoryError::MissingDeviceId => {
            AppError::bad_request("E_BAD_INVENTORY", e.to_string())
        }
    }
}
