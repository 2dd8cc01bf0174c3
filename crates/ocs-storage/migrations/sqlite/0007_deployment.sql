-- Package deployment: what the catalogue and activations need beyond the original's columns,
-- redistribution groups and their servers, packages given to groups, and who did what.
--
-- download_available.fileid is the original's FILEID (a Unix time at build, made unique by
-- the builder); the info file and the fragments live on disk under <download_dir>/<fileid>/.

ALTER TABLE download_available ADD COLUMN description TEXT NOT NULL DEFAULT '';
-- LAUNCH | EXECUTE | STORE, and the file name, command or destination path it needs.
ALTER TABLE download_available ADD COLUMN action TEXT NOT NULL DEFAULT 'EXECUTE';
ALTER TABLE download_available ADD COLUMN action_param TEXT NOT NULL DEFAULT '';
-- MD5 of the whole archive, lower-case hex ('' when there is no file).
ALTER TABLE download_available ADD COLUMN digest TEXT NOT NULL DEFAULT '';
ALTER TABLE download_available ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE download_available ADD COLUMN created_by TEXT NOT NULL DEFAULT '';

-- An activation is for the main server (server_id NULL) or for one redistribution server of
-- a redistribution group (server_id = that computer, group_id = the redistribution group;
-- pack_loc may hold $IP$ / $NAME$, replaced in the PROLOG).
ALTER TABLE download_enable ADD COLUMN server_id BIGINT;
ALTER TABLE download_enable ADD COLUMN group_id BIGINT;
ALTER TABLE download_enable ADD COLUMN activated_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE download_enable ADD COLUMN activated_by TEXT NOT NULL DEFAULT '';

-- Redistribution groups: computers that serve fragments to the agents near them. pack_url is
-- the fragments location of each member (host[:port][/path], $IP$ and $NAME$ allowed).
CREATE TABLE redistribution_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    pack_url TEXT NOT NULL DEFAULT '$IP$/download',
    created_at BIGINT NOT NULL
);
CREATE TABLE download_servers (
    group_id BIGINT NOT NULL REFERENCES redistribution_groups(id) ON DELETE CASCADE,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, hardware_id)
);
CREATE INDEX download_servers_hardware_id ON download_servers (hardware_id);

-- A package given to a group (the original's devices rows with a group's HARDWARE_ID):
-- members get it at their next PROLOG (§6.4 step 2).
CREATE TABLE group_packages (
    group_id BIGINT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    activation_id BIGINT NOT NULL REFERENCES download_enable(id) ON DELETE CASCADE,
    forced BIGINT NOT NULL DEFAULT 0,
    schedule TEXT NOT NULL DEFAULT '',
    postcmd TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (group_id, activation_id)
);

-- Every build, activation, affectation and validation, with the administrator's login.
CREATE TABLE deployment_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    fileid TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX deployment_log_fileid ON deployment_log (fileid);
