-- What changed on each computer: one row per row of a section added, removed or changed by an
-- inventory, and per administrative field edited (with who edited it).
CREATE TABLE history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    hardware_id BIGINT NOT NULL REFERENCES hardware(id) ON DELETE CASCADE,
    changed_at BIGINT NOT NULL,
    -- The catalogue element (HARDWARE, SOFTWARES, STORAGES, …), ACCOUNTINFO or COMPUTER.
    section TEXT NOT NULL,
    -- added, removed, changed, or created (a computer's first inventory).
    action TEXT NOT NULL,
    -- What the row is, in words: a software's name, a disk's name, a field's label.
    label TEXT NOT NULL DEFAULT '',
    -- JSON array of {field, old, new}: every field of an added or removed row, the fields
    -- that differ for a changed one.
    fields TEXT NOT NULL DEFAULT '[]',
    -- Who made an edit by hand; NULL for an inventory.
    author TEXT
);
CREATE INDEX history_hardware ON history (hardware_id, id);
CREATE INDEX history_changed_at ON history (changed_at);
CREATE INDEX history_section ON history (section, id);
