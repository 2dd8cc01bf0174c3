//! Network discovery: netmap (being written).
