//! (skeleton: filled by the deployment work; see mod.rs)
