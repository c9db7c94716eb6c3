package overlay

import (
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

// TestDHTScrapeCounts: a DHT entry keeps the seeds and leechers a BEP 33
// scrape estimated, apart from its swarm size; a hit carries them; a look
// without a scrape answer keeps the last counts, a new scrape replaces
// them; an entry never scraped has them unknown, not zero.
func TestDHTScrapeCounts(t *testing.T) {
	ctx := context.Background()
	s := newTestSupernode(t)
	now := time.Now()
	err := s.IndexDHT(ctx, []DHTEntry{
		{Entry: Entry{InfoHash: ih(1), Name: "Wombat Field Recordings", Size: 10}, Swarm: 9, Scraped: true, Seeds: 6, Leechers: 3, Seen: now},
		{Entry: Entry{InfoHash: ih(2), Name: "Wombat Sketches", Size: 10}, Swarm: 4, Seen: now},
	}, 100)
	if err != nil {
		t.Fatal(err)
	}
	counts := func(words string) Hit {
		t.Helper()
		h := searchOne(t, s, words)
		if len(h) != 1 {
			t.Fatalf("search %q: %d hits", words, len(h))
		}
		return h[0]
	}
	if h := counts("recordings"); !h.Scraped || h.Seeds != 6 || h.Leechers != 3 || h.Swarm != 9 {
		t.Fatalf("scraped entry's hit %+v, want 6 seeds, 3 leechers, swarm 9", h)
	}
	if h := counts("sketches"); h.Scraped || h.Swarm != 4 {
		t.Fatalf("unscraped entry's hit %+v, want counts unknown, swarm 4", h)
	}
	touch := func(e DHTEntry) {
		t.Helper()
		if ok, err := s.TouchDHT(ctx, e); err != nil || !ok {
			t.Fatalf("touch: %v %v", ok, err)
		}
	}
	touch(DHTEntry{Entry: Entry{InfoHash: ih(1)}, Swarm: 5, Seen: now})
	if h := counts("recordings"); !h.Scraped || h.Seeds != 6 || h.Leechers != 3 || h.Swarm != 5 {
		t.Fatalf("after a look without a scrape %+v, want the counts kept", h)
	}
	touch(DHTEntry{Entry: Entry{InfoHash: ih(1)}, Swarm: 5, Scraped: true, Seeds: 2, Leechers: 0, Seen: now})
	if h := counts("recordings"); !h.Scraped || h.Seeds != 2 || h.Leechers != 0 {
		t.Fatalf("after a new scrape %+v, want 2 seeds, 0 leechers", h)
	}
	w := fromWireHit(toWireHit(counts("recordings")))
	if !w.Scraped || w.Seeds != 2 || w.Leechers != 0 {
		t.Fatalf("back from the wire %+v", w)
	}
	if w := fromWireHit(toWireHit(counts("sketches"))); w.Scraped {
		t.Fatalf("unscraped hit back from the wire %+v", w)
	}
}

// TestMergeScrape: two supernodes' hits for one torrent keep the larger
// count of each; a hit without a scrape changes nothing.
func TestMergeScrape(t *testing.T) {
	merged := map[[20]byte]*Hit{}
	mergeHit(merged, Hit{InfoHash: ih(1), Name: "x", DHT: true, Swarm: 3})
	if _, changed := mergeHit(merged, Hit{InfoHash: ih(1), Name: "x", DHT: true, Swarm: 3, Scraped: true, Seeds: 1, Leechers: 4}); !changed {
		t.Fatal("a first scrape did not change the hit")
	}
	got, changed := mergeHit(merged, Hit{InfoHash: ih(1), Name: "x", DHT: true, Swarm: 3, Scraped: true, Seeds: 2, Leechers: 1})
	if !changed || got.Seeds != 2 || got.Leechers != 4 {
		t.Fatalf("merged %+v (changed %v), want 2 seeds and 4 leechers", got, changed)
	}
	if _, changed := mergeHit(merged, Hit{InfoHash: ih(1), Name: "x", DHT: true, Swarm: 3}); changed {
		t.Fatal("a hit without a scrape changed the merged one")
	}
}

// TestIndexMigratesVersion3: a version 3 file's DHT entries stay, with
// seeds and leechers unknown, and take scrape counts afterwards.
func TestIndexMigratesVersion3(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(indexSchema + termsSchema + dhtSchema + `PRAGMA user_version = 3;
		INSERT INTO entries (leaf, infohash, name, size, files, source) VALUES (-1, x'2222222222222222222222222222222222222222', 'old dht entry', 5, '', 'dht');
		INSERT INTO dht_meta VALUES (x'2222222222222222222222222222222222222222', 3, 1, 1);`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	x, err := openIndex(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	hits, err := x.search(ctx, "old dht", 10)
	if err != nil || len(hits) != 1 || !hits[0].DHT || hits[0].Swarm != 3 || hits[0].Scraped {
		t.Fatalf("migrated entry's hits %+v, %v; want swarm 3, counts unknown", hits, err)
	}
	e := DHTEntry{Entry: Entry{InfoHash: hits[0].InfoHash, Name: "old dht entry", Size: 5}, Swarm: 3, Scraped: true, Seeds: 1, Leechers: 2}
	if err := x.putDHT(ctx, []DHTEntry{e}, 100); err != nil {
		t.Fatal(err)
	}
	if hits, _ := x.search(ctx, "old dht", 10); len(hits) != 1 || hits[0].Seeds != 1 || hits[0].Leechers != 2 {
		t.Fatalf("after a scrape %+v", hits)
	}
}
