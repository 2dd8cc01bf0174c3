//! Network discovery: election (being written).
