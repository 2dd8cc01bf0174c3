-- Network discovery: the names administrators give their networks, the devices they have
-- identified and the types they sort them into, when each netmap MAC was first seen, and
-- the Analyze jobs (nmap / nmblookup) with what they found.
--
-- The election itself stays where the original keeps it: `devices` rows NAME='IPDISCOVER'
-- (IVALUE 0 never, 1 elected automatically, 2 forced; TVALUE the network address scanned);
-- COMMENTS now says why the computer was elected.

-- Named networks (the original's `subnet`): netid is the network address (e.g. 192.0.2.0),
-- network_id the free "ID" administrators group networks under.
CREATE TABLE subnets (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    netid TEXT NOT NULL,
    mask TEXT NOT NULL,
    name TEXT NOT NULL,
    network_id TEXT NOT NULL DEFAULT '',
    tag TEXT NOT NULL DEFAULT '',
    UNIQUE (netid, tag)
);

-- Device types for identified devices (the original's `devicetype`).
CREATE TABLE device_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);

-- MACs an operator registered as known (the original's `network_devices`): they leave the
-- non-inventoried list. device_type is the type's name, as the original stores it.
CREATE TABLE identified_devices (
    mac TEXT NOT NULL PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    device_type TEXT NOT NULL DEFAULT '',
    registered_by TEXT NOT NULL DEFAULT '',
    registered_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX identified_devices_type ON identified_devices (device_type);

-- netmap.date is when a MAC was last seen; first_seen when it first was.
ALTER TABLE netmap ADD COLUMN first_seen BIGINT NOT NULL DEFAULT 0;
CREATE INDEX netmap_ip ON netmap (ip);
CREATE INDEX netmap_hardware_id ON netmap (hardware_id);

-- Analyze jobs: one network at a time per job; progress is visible from every instance.
-- state: running | done | failed.
CREATE TABLE netmap_analyses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    netid TEXT NOT NULL,
    state TEXT NOT NULL,
    total BIGINT NOT NULL DEFAULT 0,
    done BIGINT NOT NULL DEFAULT 0,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    started_by TEXT NOT NULL DEFAULT '',
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX netmap_analyses_netid ON netmap_analyses (netid, id);

-- The last classification of each analysed address: WINDOWS, LINUX, MAC, NETWORK, FILTERED or
-- PHANTOM, with the NetBIOS or DNS name found.
CREATE TABLE netmap_analysis_results (
    ip TEXT NOT NULL PRIMARY KEY,
    netid TEXT NOT NULL,
    mac TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    analysis_id BIGINT NOT NULL,
    analyzed_at BIGINT NOT NULL
);
CREATE INDEX netmap_analysis_results_netid ON netmap_analysis_results (netid);
