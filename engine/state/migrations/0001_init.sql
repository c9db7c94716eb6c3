-- Shoal state schema, version 1.
-- Times are Unix nanoseconds (0 = unset). Info hashes and peer IDs are 20-byte blobs.

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE library (
    infohash BLOB PRIMARY KEY CHECK (length(infohash) = 20),
    name     TEXT NOT NULL,
    path     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    files    INTEGER NOT NULL,
    info     BLOB,
    added    INTEGER NOT NULL
) STRICT;
CREATE INDEX library_added ON library (added);

CREATE TABLE transfers (
    infohash   BLOB PRIMARY KEY CHECK (length(infohash) = 20),
    name       TEXT NOT NULL,
    dir        TEXT NOT NULL,
    source     TEXT NOT NULL,
    info       BLOB,
    state      TEXT NOT NULL,
    bitfield   BLOB NOT NULL DEFAULT x'',
    uploaded   INTEGER NOT NULL DEFAULT 0,
    downloaded INTEGER NOT NULL DEFAULT 0,
    added      INTEGER NOT NULL,
    completed  INTEGER NOT NULL DEFAULT 0,
    peers      TEXT NOT NULL DEFAULT '[]'
) STRICT;
CREATE INDEX transfers_added ON transfers (added);

-- All-time traffic per info hash: downloads and library-only seeding alike.
CREATE TABLE infohash_traffic (
    infohash BLOB PRIMARY KEY CHECK (length(infohash) = 20),
    up       INTEGER NOT NULL DEFAULT 0,
    down     INTEGER NOT NULL DEFAULT 0
) STRICT;

-- eMule-style credit, keyed by peer ID and IP.
CREATE TABLE peer_credit (
    peer_id    BLOB NOT NULL CHECK (length(peer_id) = 20),
    ip         TEXT NOT NULL,
    uploaded   INTEGER NOT NULL DEFAULT 0,
    downloaded INTEGER NOT NULL DEFAULT 0,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (peer_id, ip)
) STRICT;

-- All-time totals: exactly one row, never reset.
CREATE TABLE totals (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    up   INTEGER NOT NULL DEFAULT 0,
    down INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO totals (id, up, down) VALUES (1, 0, 0);

-- Per-day ledger; day is the UTC date as YYYY-MM-DD.
CREATE TABLE daily_traffic (
    day  TEXT PRIMARY KEY,
    up   INTEGER NOT NULL DEFAULT 0,
    down INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE peers (
    ip         TEXT PRIMARY KEY,
    hash_fails INTEGER NOT NULL DEFAULT 0,
    banned     INTEGER NOT NULL DEFAULT 0,
    reason     TEXT NOT NULL DEFAULT '',
    updated    INTEGER NOT NULL
) STRICT;
CREATE INDEX peers_banned ON peers (banned) WHERE banned <> 0;

-- Which torrents a peer sent bad pieces for.
CREATE TABLE peer_hash_fails (
    ip       TEXT NOT NULL REFERENCES peers (ip) ON DELETE CASCADE,
    infohash BLOB NOT NULL CHECK (length(infohash) = 20),
    fails    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ip, infohash)
) STRICT;

CREATE TABLE dht_nodes (
    pos  INTEGER PRIMARY KEY,
    id   BLOB NOT NULL CHECK (length(id) = 20),
    addr TEXT NOT NULL UNIQUE
) STRICT;

CREATE TABLE supernodes (
    addr      TEXT PRIMARY KEY,
    last_seen INTEGER NOT NULL
) STRICT;
CREATE INDEX supernodes_last_seen ON supernodes (last_seen);
