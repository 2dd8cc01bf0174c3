-- Software categories (reference §3.8 and the guide's software dictionary).
--
-- Every (name, publisher, version) triple of the dictionaries has at most one category in
-- software_category_links; a triple without a link is in NEW. IGNORED software is hidden
-- from computer pages and fleet counts. A link made by an administrator (manual = 1) wins
-- over the rules when they are re-applied; a rule link is recomputed.
CREATE TABLE software_categories (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    -- 'ALL', or the operating system family a rule of this category applies to (matched
    -- against the agent's User-Agent, as the original does).
    os TEXT NOT NULL DEFAULT 'ALL',
    builtin BIGINT NOT NULL DEFAULT 0
);
INSERT INTO software_categories (name, builtin) VALUES ('NEW', 1);
INSERT INTO software_categories (name, builtin) VALUES ('IGNORED', 1);
INSERT INTO software_categories (name, builtin) VALUES ('UNCHANGED', 1);

-- Rules: the last matching one (highest position) wins.
CREATE TABLE software_category_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    category_id BIGINT NOT NULL REFERENCES software_categories(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    -- Wildcard pattern on the name ('*' any, '?' one character).
    pattern TEXT NOT NULL,
    -- NULL, 'EQUAL', 'LESS' or 'MORE', with version.
    sign_version TEXT,
    version TEXT,
    publisher TEXT
);
CREATE INDEX software_category_rules_position ON software_category_rules (position);

CREATE TABLE software_category_links (
    name_id BIGINT NOT NULL REFERENCES software_name(id),
    publisher_id BIGINT NOT NULL REFERENCES software_publisher(id),
    version_id BIGINT NOT NULL REFERENCES software_version(id),
    category_id BIGINT NOT NULL REFERENCES software_categories(id) ON DELETE CASCADE,
    manual BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (name_id, publisher_id, version_id)
);
CREATE INDEX software_category_links_category ON software_category_links (category_id);
