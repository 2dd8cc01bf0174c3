//! Network discovery: results (being written).
