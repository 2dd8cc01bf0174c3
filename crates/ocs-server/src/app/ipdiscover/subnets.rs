//! Network discovery: subnets (being written).
