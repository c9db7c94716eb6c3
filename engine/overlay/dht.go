package overlay

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Entries indexed from the BitTorrent DHT (engine/dhtindex) live in the
// same FTS5 index as leaf shares, under leaf id dhtLeafID with source
// "dht", so that the keyword table (and so query routing) covers them. A
// side table keeps each one's swarm size and when it was first and last
// seen alive; entries whose swarm stays empty expire, and over the cap the
// least recently alive, then the smallest swarms, go first.
const (
	dhtLeafID = -1
	// SourceDHT is the source recorded for entries indexed from the DHT.
	SourceDHT = "dht"
)

const dhtSchema = `
CREATE TABLE dht_meta (
	infohash   BLOB PRIMARY KEY,
	swarm      INTEGER NOT NULL, -- peers last seen in its swarm
	first_seen INTEGER NOT NULL, -- unix seconds
	last_seen  INTEGER NOT NULL  -- unix seconds the swarm was last seen non-empty
);
-- Eviction order: last_seen / 3600 groups last-seen times into hours, so
-- that within one hour the smallest swarm is evicted first.
CREATE INDEX dht_meta_evict ON dht_meta (last_seen / 3600, swarm);
`

// dhtScrapeColumns is what index version 4 added: the swarm's seeds and
// leechers as a BEP 33 scrape last estimated them, -1 while no scrape
// answered (and in entries indexed before).
const dhtScrapeColumns = `
ALTER TABLE dht_meta ADD COLUMN seeds INTEGER NOT NULL DEFAULT -1;
ALTER TABLE dht_meta ADD COLUMN leechers INTEGER NOT NULL DEFAULT -1;
`

// DHTEntry is a torrent learnt from the BitTorrent DHT whose metadata the
// caller fetched and checked against the infohash.
type DHTEntry struct {
	Entry
	Swarm int // peers seen with get_peers (or the scraped count, if larger)
	// Scraped is set when nodes holding the swarm answered a BEP 33
	// scrape: Seeds and Leechers are then their estimates. An entry
	// refreshed without a scrape keeps the counts it had.
	Scraped         bool
	Seeds, Leechers int
	Seen            time.Time // when; zero means now
}

// scrapeCols are e's seeds and leechers as stored: -1 when unknown.
func (e DHTEntry) scrapeCols() (seeds, leechers int) {
	if !e.Scraped {
		return -1, -1
	}
	return max(e.Seeds, 0), max(e.Leechers, 0)
}

// IndexDHT adds or refreshes DHT entries (names and paths trimmed as for
// leaf shares) and then evicts down to maxEntries. It fails on a closed
// supernode; it works while the node is not an active supernode too, and
// its entries stay across role changes (clear keeps them, as it keeps the
// local leaf's).
func (s *Supernode) IndexDHT(ctx context.Context, entries []DHTEntry, maxEntries int) error {
	good := make([]DHTEntry, 0, len(entries))
	for _, e := range entries {
		e.Entry = trimEntry(e.Entry)
		if checkEntry(e.Entry) == nil {
			good = append(good, e)
		}
	}
	return s.idx.putDHT(ctx, good, maxEntries)
}

// TouchDHT records a fresh look at an indexed DHT entry's swarm (e's
// infohash, Swarm, scrape counts and Seen) and reports whether it is
// indexed.
func (s *Supernode) TouchDHT(ctx context.Context, e DHTEntry) (bool, error) {
	seeds, leechers := e.scrapeCols()
	q := `UPDATE dht_meta SET swarm = ?, seeds = iif(? >= 0, ?, seeds), leechers = iif(? >= 0, ?, leechers)`
	args := []any{e.Swarm, seeds, seeds, leechers, leechers}
	if e.Swarm > 0 {
		seen := e.Seen
		if seen.IsZero() {
			seen = time.Now()
		}
		q += `, last_seen = ?`
		args = append(args, seen.Unix())
	}
	res, err := s.idx.db.ExecContext(ctx, q+` WHERE infohash = ?`, append(args, e.InfoHash[:])...)
	if err != nil {
		return false, fmt.Errorf("overlay: touch DHT entry: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ExpireDHT removes DHT entries whose swarm has been empty (not seen
// alive) since before cutoff, and returns how many went.
func (s *Supernode) ExpireDHT(ctx context.Context, cutoff time.Time) (int, error) {
	return s.idx.dropDHT(ctx, `SELECT infohash FROM dht_meta WHERE last_seen < ?`, cutoff.Unix())
}

// DHTEntries counts the entries indexed from the DHT.
func (s *Supernode) DHTEntries(ctx context.Context) (int, error) {
	var n int
	if err := s.idx.db.QueryRowContext(ctx, `SELECT count(*) FROM dht_meta`).Scan(&n); err != nil {
		return 0, fmt.Errorf("overlay: count DHT entries: %w", err)
	}
	return n, nil
}

// DHTInfohashes lists the infohashes of the entries indexed from the DHT.
func (s *Supernode) DHTInfohashes(ctx context.Context) ([][20]byte, error) {
	out, err := hashesOf(ctx, s.idx.db, `SELECT infohash FROM dht_meta`)
	if err != nil {
		return nil, fmt.Errorf("overlay: list DHT entries: %w", err)
	}
	return out, nil
}

// putDHT upserts DHT entries with their metadata, then evicts over max.
func (x *index) putDHT(ctx context.Context, entries []DHTEntry, max int) error {
	return x.writeTx(ctx, "index DHT", func(tx *sql.Tx) error {
		var olds, news []string
		for _, e := range entries {
			old, err := entryOf(ctx, tx, dhtLeafID, e.InfoHash)
			if err != nil {
				return err
			}
			if old == nil {
				x.inserted.Add(1) // before the write: fewEntries' bound stays an upper bound
			}
			text, err := upsertEntry(ctx, tx, dhtLeafID, SourceDHT, e.Entry, old)
			if err != nil {
				return err
			}
			if old != nil {
				olds = append(olds, old.String())
			}
			news = append(news, text)
			if err := upsertDHTMeta(ctx, tx, e); err != nil {
				return err
			}
		}
		evicted, err := evictDHT(ctx, tx, max)
		if err != nil {
			return err
		}
		return x.commitCounted(ctx, tx, dhtLeafID, news, append(olds, evicted...))
	})
}

func upsertDHTMeta(ctx context.Context, tx *sql.Tx, e DHTEntry) error {
	seen := e.Seen
	if seen.IsZero() {
		seen = time.Now()
	}
	seeds, leechers := e.scrapeCols()
	_, err := tx.ExecContext(ctx, `INSERT INTO dht_meta (infohash, swarm, first_seen, last_seen, seeds, leechers)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (infohash) DO UPDATE SET swarm = excluded.swarm,
			last_seen = max(last_seen, excluded.last_seen),
			seeds = iif(excluded.seeds >= 0, excluded.seeds, seeds),
			leechers = iif(excluded.leechers >= 0, excluded.leechers, leechers)`,
		e.InfoHash[:], e.Swarm, seen.Unix(), seen.Unix(), seeds, leechers)
	if err != nil {
		return fmt.Errorf("overlay: index DHT: meta: %w", err)
	}
	return nil
}

// evictDHT deletes the entries beyond max and returns their texts.
func evictDHT(ctx context.Context, tx *sql.Tx, max int) ([]string, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM dht_meta`).Scan(&n); err != nil {
		return nil, fmt.Errorf("overlay: index DHT: count: %w", err)
	}
	if n <= max {
		return nil, nil
	}
	victims, err := hashesOf(ctx, tx, `SELECT infohash FROM dht_meta
		ORDER BY last_seen / 3600, swarm, last_seen LIMIT ?`, n-max)
	if err != nil {
		return nil, err
	}
	return deleteDHT(ctx, tx, victims)
}

// dropDHT deletes the DHT entries a query selects and returns how many.
func (x *index) dropDHT(ctx context.Context, query string, args ...any) (int, error) {
	n := 0
	err := x.writeTx(ctx, "expire DHT", func(tx *sql.Tx) error {
		victims, err := hashesOf(ctx, tx, query, args...)
		if err != nil {
			return err
		}
		olds, err := deleteDHT(ctx, tx, victims)
		if err != nil {
			return err
		}
		n = len(victims)
		return x.commitCounted(ctx, tx, dhtLeafID, nil, olds)
	})
	return n, err
}

func hashesOf(ctx context.Context, tx execQuerier, query string, args ...any) ([][20]byte, error) {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("overlay: DHT entries: %w", err)
	}
	defer rows.Close()
	var out [][20]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, fmt.Errorf("overlay: DHT entries: %w", err)
		}
		if len(b) == 20 {
			out = append(out, [20]byte(b))
		}
	}
	return out, rows.Err()
}

// deleteDHT deletes DHT entries and returns the texts they had.
func deleteDHT(ctx context.Context, tx *sql.Tx, hashes [][20]byte) ([]string, error) {
	var olds []string
	for _, h := range hashes {
		old, exists, err := entryTextOf(ctx, tx, dhtLeafID, h)
		if err != nil {
			return nil, err
		}
		if exists {
			olds = append(olds, old)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM entries WHERE leaf = ? AND infohash = ?`, dhtLeafID, h[:]); err != nil {
			return nil, fmt.Errorf("overlay: delete DHT entry: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM dht_meta WHERE infohash = ?`, h[:]); err != nil {
			return nil, fmt.Errorf("overlay: delete DHT entry: %w", err)
		}
	}
	return olds, nil
}

// fillDHT marks the hits indexed from the DHT with their swarm size and
// scrape counts, in one query for all hits.
func (x *index) fillDHT(ctx context.Context, hits []Hit) error {
	query := func(in string) string {
		return `SELECT infohash, printf('%d %d %d', swarm, seeds, leechers) FROM dht_meta WHERE infohash IN (` + in + `)`
	}
	return fillHits(ctx, x.db, "DHT swarm", hits, query, nil, func(h *Hit, v string) {
		var swarm, seeds, leechers int
		if _, err := fmt.Sscanf(v, "%d %d %d", &swarm, &seeds, &leechers); err != nil {
			return
		}
		h.DHT, h.Swarm = true, swarm
		if seeds >= 0 && leechers >= 0 {
			h.Scraped, h.Seeds, h.Leechers = true, seeds, leechers
		}
	})
}
