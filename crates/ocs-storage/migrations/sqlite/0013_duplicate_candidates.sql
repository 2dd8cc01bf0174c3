-- The duplicates page's candidate sets, found off the request path (grouping the whole fleet
-- by each mode's values takes seconds at 100,000 computers): one row per computer of a set of
-- two or more sharing a mode's values. A deleted or merged computer's rows go with it, so a
-- set it leaves with one computer disappears at once. The one row of
-- duplicate_candidates_refresh says when they were found.
CREATE TABLE duplicate_candidates (
    mode TEXT NOT NULL,
    k1 TEXT NOT NULL,
    k2 TEXT NOT NULL,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    PRIMARY KEY (mode, k1, k2, hardware_id)
);
CREATE INDEX duplicate_candidates_hardware ON duplicate_candidates (hardware_id);
CREATE TABLE duplicate_candidates_refresh (
    id BIGINT NOT NULL PRIMARY KEY,
    refreshed_at BIGINT NOT NULL
);
