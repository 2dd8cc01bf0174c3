-- Agent authentication: HTTP Basic credentials kept in the database (besides those of the
-- configuration file), and the credential each device is bound to when agents.auth.bind_devices
-- is on. A binding goes with its device (deleted or merged away).

CREATE TABLE agent_users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE agent_bindings (
    hardware_id BIGINT NOT NULL PRIMARY KEY REFERENCES hardware(id) ON DELETE CASCADE,
    agent_user TEXT NOT NULL,
    bound_at BIGINT NOT NULL
);
CREATE INDEX agent_bindings_agent_user ON agent_bindings (agent_user);
