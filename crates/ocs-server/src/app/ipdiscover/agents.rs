//! Network discovery: agents (being written).
