-- The download queue: transfers wait to start in queue_pos order (1 first)
-- when the active limits are reached; a forced transfer ignores them.
ALTER TABLE transfers ADD COLUMN queue_pos INTEGER NOT NULL DEFAULT 0;
ALTER TABLE transfers ADD COLUMN forced INTEGER NOT NULL DEFAULT 0;
-- Transfers from before the queue wait in the order they were added.
UPDATE transfers SET queue_pos = 1 + (SELECT count(*) FROM transfers AS o
    WHERE o.added < transfers.added OR (o.added = transfers.added AND o.infohash < transfers.infohash));
