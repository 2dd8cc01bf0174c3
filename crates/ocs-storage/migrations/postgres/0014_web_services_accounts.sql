-- Console accounts allowed to use the web services (the original's SOAP interface and its
-- REST API authenticate against console accounts that have this permission).
ALTER TABLE console_users ADD COLUMN web_services BIGINT NOT NULL DEFAULT 0;
