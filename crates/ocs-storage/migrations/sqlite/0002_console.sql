-- Administration console: accounts, server-side sessions (shared by every instance), failed
-- sign-ins for rate limiting, and indexes behind the list's sortable columns.

CREATE TABLE console_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    must_change_password BIGINT NOT NULL DEFAULT 0,
    language TEXT,
    list_prefs TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

CREATE TABLE console_sessions (
    token_digest TEXT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);
CREATE INDEX console_sessions_user_id ON console_sessions (user_id);

CREATE TABLE console_login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX console_login_failures_key_at ON console_login_failures (key, at);

CREATE INDEX hardware_userid ON hardware (userid);
CREATE INDEX hardware_ipaddr ON hardware (ipaddr);
CREATE INDEX hardware_useragent ON hardware (useragent);
CREATE INDEX hardware_lastcome ON hardware (lastcome);
CREATE INDEX hardware_memory ON hardware (memory);
CREATE INDEX accountinfo_values_field_value ON accountinfo_values (field_id, value);
CREATE INDEX networks_ipaddress ON networks (ipaddress);
