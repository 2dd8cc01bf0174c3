//! Network discovery: lookup (being written).
