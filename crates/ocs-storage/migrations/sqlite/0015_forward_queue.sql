-- Inventories waiting to be relayed to the upstream OCS servers of `[forwarding]`: queued in
-- the transaction that stores the inventory, deleted once an upstream took it, so that a
-- restart or an unreachable upstream loses nothing. One row per upstream.
CREATE TABLE forward_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    upstream TEXT NOT NULL,
    deviceid TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    -- The request body, zlib-compressed, as the agent sent it.
    body BLOB NOT NULL,
    queued_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    -- A sender holds the row until then (several instances share the queue).
    claimed_until BIGINT NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX forward_queue_upstream ON forward_queue (upstream, id);
