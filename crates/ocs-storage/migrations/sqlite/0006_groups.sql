-- Groups of computers, their settings, and the log of deleted computers.
--
-- A group is a row of its own (not a hardware row as in the original), so that computer lists
-- never have to leave groups out. A dynamic group keeps its search criteria (field
-- keys, operator names and values in the search page's query-string encoding), never as SQL.

CREATE TABLE groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    criteria TEXT,
    created_at BIGINT NOT NULL,
    -- When the dynamic members were last computed (the original's CREATE_TIME).
    computed_at BIGINT NOT NULL DEFAULT 0,
    -- Start of the revalidation delay (the original's REVALIDATE_FROM).
    revalidate_from BIGINT NOT NULL DEFAULT 0
);

-- Members: STATIC 0 = computed member of a dynamic group, 1 = added by hand (static groups, or
-- forced into a dynamic one), 2 = forced out of a dynamic group (kept, not a member).
CREATE TABLE group_members (
    group_id BIGINT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    static BIGINT NOT NULL,
    PRIMARY KEY (group_id, hardware_id)
);
CREATE INDEX group_members_hardware_id ON group_members (hardware_id);

-- Settings a group gives its members (FREQUENCY, PROLOG_FREQ, DOWNLOAD_*, IPDISCOVER, ...),
-- shaped like the per-computer devices rows.
CREATE TABLE group_settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_id BIGINT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    ivalue BIGINT,
    tvalue TEXT,
    UNIQUE (group_id, name)
);

-- The console's log of deleted computers (deleted_equiv keeps the original's trace).
CREATE TABLE deleted_computers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL,
    deviceid TEXT NOT NULL,
    name TEXT,
    deleted_at BIGINT NOT NULL,
    deleted_by TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX deleted_computers_deleted_at ON deleted_computers (deleted_at);

-- API tokens carry a scope: read (the default, as before), write.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'read';
