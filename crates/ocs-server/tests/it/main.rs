//! Integration tests: the real binary over HTTP.
