-- The search compares the operating system case-insensitively. An index on the lowered
-- name lets the database estimate how many computers match (PostgreSQL keeps statistics
-- on indexed expressions), which decides between seeking and hashing for the software
-- criteria that come with it.
CREATE INDEX hardware_lower_osname ON hardware (LOWER(osname));
