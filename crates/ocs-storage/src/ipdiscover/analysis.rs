//! Network discovery: analysis (being written).
