//! Network discovery: networks (being written).
