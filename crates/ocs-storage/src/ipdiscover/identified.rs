//! Network discovery: identified (being written).
