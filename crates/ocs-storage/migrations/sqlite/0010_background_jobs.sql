-- Background jobs started from the console (today: re-applying the software category rules
-- to the whole fleet). One row per run; the job writes its progress as it goes, so the
-- console of any instance shows it, and a job whose instance died is seen as stale.
CREATE TABLE background_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    -- running, done or failed.
    state TEXT NOT NULL,
    total BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    -- Rows the job changed so far.
    changed BIGINT NOT NULL DEFAULT 0,
    -- Set when a change that needs the job arrives while it runs: it starts over when done.
    again BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT,
    started_by TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX background_jobs_kind ON background_jobs (kind, id);

-- The fleet's software counts, recomputed as a whole from `software` off the request path
-- (counting millions of rows on every page view takes seconds): computers per
-- name/publisher/version, and per name/publisher (a computer with two versions counts once).
-- The one row of software_counts_refresh says when they were counted.
CREATE TABLE software_triple_counts (
    name_id BIGINT NOT NULL,
    publisher_id BIGINT NOT NULL,
    version_id BIGINT NOT NULL,
    computers BIGINT NOT NULL,
    PRIMARY KEY (name_id, publisher_id, version_id)
);
CREATE TABLE software_name_counts (
    name_id BIGINT NOT NULL,
    publisher_id BIGINT NOT NULL,
    computers BIGINT NOT NULL,
    PRIMARY KEY (name_id, publisher_id)
);
CREATE TABLE software_counts_refresh (
    id BIGINT NOT NULL PRIMARY KEY,
    refreshed_at BIGINT NOT NULL
);
