-- Race-free sign-in limits and a second factor for console accounts.
--
-- console_login_attempts holds one counter per key (an account's untrusted clients, an
-- address, a trusted device, a second-factor step), bumped by a single upsert before any
-- password is checked; it replaces the one-row-per-failure table, whose count-then-insert
-- let concurrent attempts all pass the check.

DROP TABLE console_login_failures;

CREATE TABLE console_login_attempts (
    key TEXT NOT NULL PRIMARY KEY,
    window_start BIGINT NOT NULL,
    attempts BIGINT NOT NULL
);
CREATE INDEX console_login_attempts_window_start ON console_login_attempts (window_start);

-- Browsers that signed in successfully ("device cookies"): only the digest of the cookie.
CREATE TABLE console_devices (
    digest TEXT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_used BIGINT NOT NULL
);
CREATE INDEX console_devices_user_id ON console_devices (user_id);

-- Sign-ins whose password was right and that wait for the second factor.
CREATE TABLE console_pending_signins (
    token_digest TEXT NOT NULL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    limit_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- TOTP (RFC 6238) secrets; confirmed = 0 while enrolment waits for a first valid code.
-- last_step is the newest time step accepted, so no code is accepted twice.
CREATE TABLE console_totp (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES console_users(id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    confirmed BIGINT NOT NULL DEFAULT 0,
    last_step BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

-- Single-use recovery codes (digests), deleted when used.
CREATE TABLE console_recovery_codes (
    user_id BIGINT NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    digest TEXT NOT NULL,
    PRIMARY KEY (user_id, digest)
);

-- Console-wide settings (name → value), e.g. whether every account needs a second factor.
CREATE TABLE console_settings (
    name TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
