-- Initial schema: devices, their inventory sections, the software dictionaries, server
-- options, per-device settings and the capacities' tables. Timestamps are Unix seconds.

CREATE TABLE hardware (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    deviceid TEXT NOT NULL UNIQUE,
    name TEXT,
    workgroup TEXT,
    userdomain TEXT,
    osname TEXT,
    osversion TEXT,
    oscomments TEXT,
    processort TEXT,
    processors BIGINT,
    processorn BIGINT,
    memory BIGINT,
    swap BIGINT,
    ipaddr TEXT,
    dns TEXT,
    defaultgateway TEXT,
    description TEXT,
    wincompany TEXT,
    winowner TEXT,
    winprodid TEXT,
    winprodkey TEXT,
    uuid TEXT,
    arch TEXT,
    type BIGINT,
    userid TEXT,
    lastloggeduser TEXT,
    vmsystem TEXT,
    lastdate BIGINT,
    lastcome BIGINT,
    quality DOUBLE PRECISION NOT NULL DEFAULT 0,
    fidelity BIGINT NOT NULL DEFAULT 1,
    useragent TEXT,
    checksum BIGINT NOT NULL DEFAULT 262143,
    ipsrc TEXT,
    archive BIGINT NOT NULL DEFAULT 0,
    -- SHA-256 of the normalised software list last stored; an identical list needs no work.
    software_digest TEXT
);
CREATE INDEX hardware_name ON hardware (name);
CREATE INDEX hardware_uuid ON hardware (uuid);
CREATE INDEX hardware_lastdate ON hardware (lastdate);
CREATE INDEX hardware_osname ON hardware (osname);

-- Administrative data: TAG for every device, plus admin-defined fields (fields_<id>).
CREATE TABLE accountinfo (
    hardware_id BIGINT NOT NULL PRIMARY KEY REFERENCES hardware(id) ON DELETE CASCADE,
    tag TEXT NOT NULL DEFAULT 'NA'
);
CREATE INDEX accountinfo_tag ON accountinfo (tag);
CREATE TABLE accountinfo_fields (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    label TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'Text',
    created_at BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE accountinfo_values (
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    field_id BIGINT NOT NULL REFERENCES accountinfo_fields(id) ON DELETE CASCADE,
    value TEXT,
    PRIMARY KEY (hardware_id, field_id)
);

-- Server options (OCS_OPT_*), edited from the shell and the console.
CREATE TABLE config (
    name TEXT NOT NULL PRIMARY KEY,
    ivalue BIGINT,
    tvalue TEXT,
    comments TEXT
);

-- Per-device key/value settings: FREQUENCY, PROLOG_FREQ, DOWNLOAD rows, IPDISCOVER, ...
CREATE TABLE devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    ivalue BIGINT,
    tvalue TEXT,
    comments TEXT
);
CREATE INDEX devices_hardware_name ON devices (hardware_id, name);
CREATE INDEX devices_name_ivalue ON devices (name, ivalue);

-- PROLOG sessions: a SEND prolog opens one, the inventory closes it.
CREATE TABLE prolog_sessions (
    deviceid TEXT NOT NULL PRIMARY KEY,
    opened_at BIGINT NOT NULL
);
CREATE INDEX prolog_sessions_opened_at ON prolog_sessions (opened_at);

-- Software, normalised through three dictionaries. Row 1 of each is 'Unavailable'.
CREATE TABLE software_name (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE software_publisher (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    publisher TEXT NOT NULL UNIQUE
);
CREATE TABLE software_version (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version TEXT NOT NULL UNIQUE,
    prettyversion TEXT NOT NULL,
    major BIGINT NOT NULL DEFAULT 0,
    minor BIGINT NOT NULL DEFAULT 0,
    patch BIGINT NOT NULL DEFAULT 0
);
INSERT INTO software_name (id, name) VALUES (1, 'Unavailable');
INSERT INTO software_publisher (id, publisher) VALUES (1, 'Unavailable');
INSERT INTO software_version (id, version, prettyversion) VALUES (1, 'Unavailable', 'Unavailable');
CREATE TABLE software (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    name_id BIGINT NOT NULL REFERENCES software_name(id),
    publisher_id BIGINT NOT NULL REFERENCES software_publisher(id),
    version_id BIGINT NOT NULL REFERENCES software_version(id),
    folder TEXT,
    comments TEXT,
    filename TEXT,
    filesize BIGINT,
    source BIGINT,
    guid TEXT,
    language TEXT,
    installdate TEXT,
    bitswidth BIGINT,
    architecture TEXT
);
CREATE INDEX software_hardware_id ON software (hardware_id);
CREATE INDEX software_name_id ON software (name_id, hardware_id);

-- Generic inventory sections, one table per catalogue entry.
-- BIOS
CREATE TABLE bios (
    hardware_id BIGINT NOT NULL PRIMARY KEY REFERENCES hardware(id) ON DELETE CASCADE,
    smanufacturer TEXT,
    smodel TEXT,
    ssn TEXT,
    type TEXT,
    bmanufacturer TEXT,
    bversion TEXT,
    bdate TEXT,
    assettag TEXT,
    mmanufacturer TEXT,
    mmodel TEXT,
    msn TEXT
);
-- MEMORIES
CREATE TABLE memories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    caption TEXT,
    description TEXT,
    capacity BIGINT,
    purpose TEXT,
    type TEXT,
    speed TEXT,
    numslots BIGINT,
    serialnumber TEXT
);
CREATE INDEX memories_hardware_id ON memories (hardware_id);
-- SLOTS
CREATE TABLE slots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    name TEXT,
    description TEXT,
    designation TEXT,
    purpose TEXT,
    status TEXT,
    pshare BIGINT
);
CREATE INDEX slots_hardware_id ON slots (hardware_id);
-- REGISTRY
CREATE TABLE registry (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    name TEXT,
    regvalue TEXT
);
CREATE INDEX registry_hardware_id ON registry (hardware_id);
-- CONTROLLERS
CREATE TABLE controllers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    manufacturer TEXT,
    name TEXT,
    caption TEXT,
    description TEXT,
    version TEXT,
    type TEXT
);
CREATE INDEX controllers_hardware_id ON controllers (hardware_id);
-- MONITORS
CREATE TABLE monitors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    manufacturer TEXT,
    caption TEXT,
    description TEXT,
    type TEXT,
    serial TEXT
);
CREATE INDEX monitors_hardware_id ON monitors (hardware_id);
-- PORTS
CREATE TABLE ports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    type TEXT,
    name TEXT,
    caption TEXT,
    description TEXT
);
CREATE INDEX ports_hardware_id ON ports (hardware_id);
-- STORAGES
CREATE TABLE storages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    manufacturer TEXT,
    name TEXT,
    model TEXT,
    description TEXT,
    type TEXT,
    disksize BIGINT,
    serialnumber TEXT,
    firmware TEXT
);
CREATE INDEX storages_hardware_id ON storages (hardware_id);
-- DRIVES
CREATE TABLE drives (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    letter TEXT,
    type TEXT,
    filesystem TEXT,
    total BIGINT,
    free BIGINT,
    numfiles BIGINT,
    volumn TEXT,
    createdate TEXT
);
CREATE INDEX drives_hardware_id ON drives (hardware_id);
-- INPUTS
CREATE TABLE inputs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    type TEXT,
    manufacturer TEXT,
    caption TEXT,
    description TEXT,
    interface TEXT,
    pointtype TEXT
);
CREATE INDEX inputs_hardware_id ON inputs (hardware_id);
-- MODEMS
CREATE TABLE modems (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    name TEXT,
    model TEXT,
    description TEXT,
    type TEXT
);
CREATE INDEX modems_hardware_id ON modems (hardware_id);
-- NETWORKS
CREATE TABLE networks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    description TEXT,
    type TEXT,
    typemib TEXT,
    speed TEXT,
    mtu TEXT,
    macaddr TEXT,
    status TEXT,
    ipaddress TEXT,
    ipmask TEXT,
    ipgateway TEXT,
    ipsubnet TEXT,
    ipdhcp TEXT,
    virtualdev BIGINT
);
CREATE INDEX networks_hardware_id ON networks (hardware_id);
-- PRINTERS
CREATE TABLE printers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    name TEXT,
    driver TEXT,
    port TEXT,
    description TEXT,
    servername TEXT,
    sharename TEXT,
    resolution TEXT,
    comment TEXT,
    shared BIGINT,
    network BIGINT
);
CREATE INDEX printers_hardware_id ON printers (hardware_id);
-- SOUNDS
CREATE TABLE sounds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    manufacturer TEXT,
    name TEXT,
    description TEXT
);
CREATE INDEX sounds_hardware_id ON sounds (hardware_id);
-- VIDEOS
CREATE TABLE videos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    name TEXT,
    chipset TEXT,
    memory TEXT,
    resolution TEXT
);
CREATE INDEX videos_hardware_id ON videos (hardware_id);
-- VIRTUALMACHINES
CREATE TABLE virtualmachines (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    name TEXT,
    status TEXT,
    subsystem TEXT,
    vmtype TEXT,
    uuid TEXT,
    vcpu BIGINT,
    memory BIGINT
);
CREATE INDEX virtualmachines_hardware_id ON virtualmachines (hardware_id);
-- CPUS
CREATE TABLE cpus (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    manufacturer TEXT,
    type TEXT,
    serialnumber TEXT,
    speed TEXT,
    cores BIGINT,
    l2cachesize TEXT,
    cpuarch TEXT,
    data_width BIGINT,
    current_address_width BIGINT,
    logical_cpus BIGINT,
    voltage TEXT,
    current_speed TEXT,
    socket TEXT
);
CREATE INDEX cpus_hardware_id ON cpus (hardware_id);
-- SIM
CREATE TABLE sim (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    operator TEXT,
    opname TEXT,
    country TEXT,
    serialnumber TEXT,
    deviceid TEXT,
    phonenumber TEXT
);
CREATE INDEX sim_hardware_id ON sim (hardware_id);
-- BATTERIES
CREATE TABLE batteries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    name TEXT,
    manufacturer TEXT,
    serialnumber TEXT,
    chemistry TEXT,
    designcapacity TEXT,
    designvoltage TEXT,
    location TEXT,
    manufacturedate TEXT,
    sbdsversion TEXT,
    maxerror TEXT,
    oemspecific TEXT,
    cycles TEXT,
    description TEXT,
    estimatedchargeremaining TEXT,
    status TEXT
);
CREATE INDEX batteries_hardware_id ON batteries (hardware_id);
-- USBDEVICES
CREATE TABLE usbdevices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    description TEXT,
    interface TEXT,
    manufacturer TEXT,
    serial TEXT,
    type TEXT
);
CREATE INDEX usbdevices_hardware_id ON usbdevices (hardware_id);
-- REPOSITORY
CREATE TABLE repository (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    baseurl TEXT,
    exclude TEXT,
    excluded TEXT,
    expire TEXT,
    filename TEXT,
    mirrors TEXT,
    name TEXT,
    pkgs TEXT,
    revision TEXT,
    size TEXT,
    tag TEXT,
    updated TEXT
);
CREATE INDEX repository_hardware_id ON repository (hardware_id);
-- LOCAL_USERS
CREATE TABLE local_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    id_user TEXT,
    gid TEXT,
    home TEXT,
    login TEXT,
    name TEXT,
    shell TEXT
);
CREATE INDEX local_users_hardware_id ON local_users (hardware_id);
-- LOCAL_GROUPS
CREATE TABLE local_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    id_group TEXT,
    name TEXT,
    member TEXT
);
CREATE INDEX local_groups_hardware_id ON local_groups (hardware_id);
-- JAVAINFO
CREATE TABLE javainfo (
    hardware_id BIGINT NOT NULL PRIMARY KEY REFERENCES hardware(id) ON DELETE CASCADE,
    javaname TEXT,
    javapathlevel BIGINT,
    javacountry TEXT,
    javaclasspath TEXT,
    javahome TEXT
);
-- JOURNALLOG
CREATE TABLE journallog (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    journallog TEXT,
    listenername TEXT,
    date TEXT,
    status BIGINT,
    errorcode TEXT
);
CREATE INDEX journallog_hardware_id ON journallog (hardware_id);
CREATE INDEX networks_macaddr ON networks (macaddr);
CREATE INDEX networks_ipsubnet ON networks (ipsubnet);
CREATE INDEX bios_ssn ON bios (ssn);
CREATE INDEX bios_assettag ON bios (assettag);
CREATE INDEX bios_smodel ON bios (smodel);
CREATE INDEX registry_name ON registry (name);

-- Duplicate detection blacklists (compared case-insensitively).
CREATE TABLE blacklist_macaddresses (
    macaddress TEXT NOT NULL PRIMARY KEY
);
CREATE TABLE blacklist_serials (
    serial TEXT NOT NULL PRIMARY KEY
);
CREATE TABLE blacklist_subnet (
    subnet TEXT NOT NULL,
    mask TEXT NOT NULL,
    PRIMARY KEY (subnet, mask)
);
INSERT INTO blacklist_macaddresses (macaddress) VALUES
    (''), ('00:00:00:00:00:00'), ('00:01:02:7D:9B:1C'), ('00:08:A1:46:06:35'),
    ('00:08:A1:66:E2:1A'), ('00:09:DD:10:37:68'), ('00:0F:EA:9A:E2:F0'), ('00:10:5A:72:71:F3'),
    ('00:11:11:85:08:8B'), ('10:11:11:11:11:11'), ('44:45:53:54:00:00'), ('44:45:53:54:00:01'),
    ('44:45:53:54:61:6F'), ('FF:FF:FF:FF:FF:FF');
INSERT INTO blacklist_serials (serial) VALUES
    (''), ('(null string)'), ('000000'), ('0000000'), ('00000000'), ('000000000'),
    ('0000000000'), ('0123456789'), ('1'), ('1111111'), ('1111111111'), ('12345'),
    ('123456'), ('1234567'), ('12345678'), ('123456789'), ('1234567890'), ('123456789000'),
    ('12345678901234567'), ('EVAL'), ('IATPASS'), ('INVALID'), ('N/A'), ('NNNNNNN'), ('none'),
    ('Serial Number xxxxxx'), ('SN-12345'), ('SN-1234567890'), ('SN-123456fvgv3i0b8o5n6n7k'),
    ('SYS-1234567890'), ('SYS-9876543210'), ('To Be Filled By O.E.M.'), ('Tulip Computers'),
    ('xxxxxxxxxxx');

-- Merge and deletion trace (TRACE_DELETED).
CREATE TABLE deleted_equiv (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    date BIGINT NOT NULL,
    deleted TEXT NOT NULL,
    equivalent TEXT
);

-- Registry queries sent in the PROLOG REGISTRY option.
CREATE TABLE regconfig (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    regtree BIGINT NOT NULL,
    regkey TEXT NOT NULL,
    regvalue TEXT NOT NULL
);

-- Deployment: the package catalogue, activations, what agents report installed, and every
-- status report received.
CREATE TABLE download_available (
    fileid TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    priority BIGINT NOT NULL DEFAULT 5,
    fragments BIGINT NOT NULL DEFAULT 0,
    size BIGINT NOT NULL DEFAULT 0,
    osname TEXT,
    comment TEXT,
    deleted BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE download_enable (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fileid TEXT NOT NULL,
    info_loc TEXT NOT NULL,
    pack_loc TEXT NOT NULL,
    cert_path TEXT NOT NULL DEFAULT 'INSTALL_PATH',
    cert_file TEXT NOT NULL DEFAULT 'INSTALL_PATH/cacert.pem'
);
CREATE INDEX download_enable_fileid ON download_enable (fileid);
CREATE TABLE download_history (
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    pkg_id TEXT NOT NULL,
    pkg_name TEXT,
    PRIMARY KEY (hardware_id, pkg_id)
);
CREATE TABLE download_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    fileid TEXT NOT NULL,
    status TEXT NOT NULL,
    reported_at BIGINT NOT NULL
);
CREATE INDEX download_reports_hardware_id ON download_reports (hardware_id);

-- IP discovery results: one row per MAC seen on a scanned subnet.
CREATE TABLE netmap (
    mac TEXT NOT NULL PRIMARY KEY,
    ip TEXT NOT NULL,
    mask TEXT,
    netid TEXT,
    date BIGINT NOT NULL,
    name TEXT,
    tag TEXT,
    hardware_id BIGINT
);
CREATE INDEX netmap_netid ON netmap (netid);

-- SNMP scan results (2.7+ format): one device per (type table, reconciliation value).
CREATE TABLE snmp_types (
    table_name TEXT NOT NULL PRIMARY KEY,
    type_name TEXT NOT NULL,
    reconciliation_label TEXT NOT NULL
);
INSERT INTO snmp_types (table_name, type_name, reconciliation_label) VALUES ('snmp_default', 'Default', 'DefaultName');
CREATE TABLE snmp_devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    type_table TEXT NOT NULL,
    reconciliation_value TEXT NOT NULL,
    scanned_by BIGINT,
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    UNIQUE (type_table, reconciliation_value)
);
CREATE TABLE snmp_device_values (
    device_id BIGINT NOT NULL REFERENCES snmp_devices(id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    value TEXT,
    PRIMARY KEY (device_id, label)
);

-- Tokens of the JSON API; only a SHA-256 of each token is kept.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
);

-- Duplicate detection compares case-insensitively, as the original's MySQL collation did.
CREATE INDEX hardware_lower_name ON hardware (LOWER(name));
CREATE INDEX hardware_lower_uuid ON hardware (LOWER(uuid));
CREATE INDEX bios_lower_ssn ON bios (LOWER(ssn));
CREATE INDEX bios_lower_smodel ON bios (LOWER(smodel));
CREATE INDEX bios_lower_assettag ON bios (LOWER(assettag));
CREATE INDEX networks_lower_macaddr ON networks (LOWER(macaddr));
