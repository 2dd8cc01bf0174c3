//! Package deployment (reference §6, seed chapter "Deploying packages or executing commands
//! on client hosts"): build, activate, serve, affect, the PROLOG's packages, statuses and
//! statistics, redistribution groups, agent rollout files.
//!
//! `build` writes a package's info file and fragments and its catalogue row; `files` serves
//! them; `activate` checks and records where agents fetch them; `export` writes the layout a
//! redistribution web server serves; `affect` gives packages to computers and groups;
//! `offer` is what a PROLOG lists (§6.4); `status` the statistics and validations;
//! `redistribution` the redistribution groups; `rollout` the agent rollout files.

pub mod activate;
pub mod affect;
pub mod build;
pub mod export;
pub mod files;
pub mod offer;
pub mod packages;
pub mod redistribution;
pub mod rollout;
pub mod status;
