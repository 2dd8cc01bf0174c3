//! Network discovery: analyze (being written).
