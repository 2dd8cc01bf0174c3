//! Network discovery: devices (being written).
