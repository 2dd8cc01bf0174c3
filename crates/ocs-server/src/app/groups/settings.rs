//! Group settings: what the console edits on a group page, and how the communication server
//! combines them with a computer's own settings (reference §10.3).
