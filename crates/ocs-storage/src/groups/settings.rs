//! Settings a group gives its members (`group_settings`), and how the communication server
//! reads them for one computer.
