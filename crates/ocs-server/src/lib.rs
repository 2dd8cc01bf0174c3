//! The OCS Inventory NG server: communication server (`/ocsinventory`), JSON API and (next)
//! the administration console, in one binary. `main.rs` only calls [`cli::main`].

pub mod app;
pub mod cli;
pub mod config;
pub mod http;
pub mod logging;
pub mod tls;
