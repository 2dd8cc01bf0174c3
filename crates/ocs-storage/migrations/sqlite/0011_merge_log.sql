-- Merges of duplicate computers, by an administrator or the automatic detection. Each row
-- keeps, until its undo period ends, a snapshot of every row of the computers involved as
-- they were just before the merge (JSON), so that the merge can be undone.
CREATE TABLE merge_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merged_at BIGINT NOT NULL,
    kept_id BIGINT NOT NULL,
    -- JSON array of {id, deviceid, name} of the computers merged into the kept one.
    merged TEXT NOT NULL,
    -- administrator or automatic.
    reason TEXT NOT NULL,
    -- The duplicate mode, or the AUTO_DUPLICATE_LVL of an automatic merge.
    criteria TEXT NOT NULL DEFAULT '',
    merged_by TEXT NOT NULL,
    -- NULL once the undo period is over.
    snapshot TEXT,
    undone_at BIGINT,
    undone_by TEXT
);
CREATE INDEX merge_log_merged_at ON merge_log (merged_at);
