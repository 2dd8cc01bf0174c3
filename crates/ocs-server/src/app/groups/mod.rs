//! Groups: static and dynamic groups, their members, and the settings they give them.

pub mod settings;
