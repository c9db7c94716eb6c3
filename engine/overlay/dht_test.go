package overlay

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func newTestSupernode(t *testing.T) *Supernode {
	t.Helper()
	s, err := NewSupernode(SupernodeConfig{Addr: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// inTable reports whether the keyword table holds every key of words.
func inTable(t *testing.T, s *Supernode, words string) bool {
	t.Helper()
	keys, err := s.idx.queryKeys(context.Background(), words)
	if err != nil {
		t.Fatal(err)
	}
	return s.idx.kw.hasAll(keys)
}

func searchOne(t *testing.T, s *Supernode, words string) []Hit {
	t.Helper()
	hits, err := s.idx.search(context.Background(), words, 10)
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestIndexDHT: DHT entries are searchable with their source and swarm,
// sit in the keyword table, merge with a leaf's entry for the same
// infohash, expire, and are evicted least-recent and smallest-swarm first.
func TestIndexDHT(t *testing.T) {
	ctx := context.Background()
	s := newTestSupernode(t)
	now := time.Now()
	old := now.Add(-3 * time.Hour)
	entries := []DHTEntry{
		{Entry: Entry{InfoHash: ih(1), Name: "Sintel open movie", Size: 10, Files: []string{"sintel.mkv"}}, Swarm: 7, Seen: now},
		{Entry: Entry{InfoHash: ih(2), Name: "Big Buck Bunny", Size: 20}, Swarm: 1, Seen: now},
		{Entry: Entry{InfoHash: ih(3), Name: "Elephants Dream", Size: 30}, Swarm: 50, Seen: old},
		{Entry: Entry{InfoHash: ih(4), Name: "bad\nname " + string(make([]byte, 600)), Size: 1}, Swarm: 1, Seen: now},
	}
	if err := s.IndexDHT(ctx, entries, 100); err != nil {
		t.Fatal(err)
	}
	hits := searchOne(t, s, "sintel")
	if len(hits) != 1 || !hits[0].DHT || hits[0].Swarm != 7 || len(hits[0].Sources) != 0 {
		t.Fatalf("hits %+v, want one DHT hit with swarm 7 and no leaf sources", hits)
	}
	if !inTable(t, s, "sintel movie") || inTable(t, s, "tears steel") {
		t.Fatal("keyword table does not cover exactly the DHT entries")
	}
	if n, _ := s.DHTEntries(ctx); n != 4 {
		t.Fatalf("%d DHT entries, want 4 (the long name trimmed, not refused)", n)
	}
	// A leaf shares the same torrent: one hit, both origins.
	if err := s.putLocal(ctx, "127.0.0.1:7000", []Entry{{InfoHash: ih(1), Name: "Sintel", Size: 10}}, nil); err != nil {
		t.Fatal(err)
	}
	hits = searchOne(t, s, "sintel")
	if len(hits) != 1 || !hits[0].DHT || len(hits[0].Sources) != 1 || hits[0].Sources[0] != "127.0.0.1:7000" {
		t.Fatalf("merged hit %+v", hits)
	}
	// Touch: a new swarm size.
	if ok, err := s.TouchDHT(ctx, DHTEntry{Entry: Entry{InfoHash: ih(2)}, Swarm: 9, Seen: now}); err != nil || !ok {
		t.Fatalf("touch: %v %v", ok, err)
	}
	if ok, _ := s.TouchDHT(ctx, DHTEntry{Entry: Entry{InfoHash: ih(9)}, Swarm: 9, Seen: now}); ok {
		t.Fatal("touch of an entry never indexed reported it indexed")
	}
	if h := searchOne(t, s, "bunny"); len(h) != 1 || h[0].Swarm != 9 {
		t.Fatalf("after touch %+v", h)
	}
	// Expiry: ih(3) was last alive 3 h ago.
	n, err := s.ExpireDHT(ctx, now.Add(-time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	if len(searchOne(t, s, "elephants")) != 0 || inTable(t, s, "elephants") {
		t.Fatal("expired entry still searchable or in the keyword table")
	}
	// Cap 2: of ih(1) swarm 7, ih(2) swarm 9, ih(4) swarm 1 (all now),
	// ih(4) goes first.
	if err := s.IndexDHT(ctx, nil, 2); err != nil {
		t.Fatal(err)
	}
	if len(searchOne(t, s, "bad name")) != 0 || len(searchOne(t, s, "bunny")) != 1 {
		t.Fatal("eviction did not take the smallest swarm")
	}
	// The leaf's own entry for ih(1) stays whatever happens to the DHT's.
	if err := s.IndexDHT(ctx, nil, 0); err != nil {
		t.Fatal(err)
	}
	hits = searchOne(t, s, "sintel")
	if len(hits) != 1 || hits[0].DHT || len(hits[0].Sources) != 1 {
		t.Fatalf("after evicting every DHT entry: %+v", hits)
	}
	if inTable(t, s, "bunny") || !inTable(t, s, "sintel") {
		t.Fatal("keyword table after eviction is wrong")
	}
}

// TestMergeHitDHT: a DHT hit from one supernode and a leaf hit from another
// become one hit with both.
func TestMergeHitDHT(t *testing.T) {
	merged := map[[20]byte]*Hit{}
	if _, ok := mergeHit(merged, Hit{InfoHash: ih(1), Name: "x", Sources: []string{"127.0.0.1:1"}}); !ok {
		t.Fatal("first hit not emitted")
	}
	h, ok := mergeHit(merged, Hit{InfoHash: ih(1), Name: "x", DHT: true, Swarm: 4})
	if !ok || !h.DHT || h.Swarm != 4 || len(h.Sources) != 1 {
		t.Fatalf("merged %+v %v", h, ok)
	}
	if _, ok := mergeHit(merged, Hit{InfoHash: ih(1), Name: "x", DHT: true, Swarm: 2}); ok {
		t.Fatal("a smaller swarm size changed the hit")
	}
}

// TestDHTEntriesPersist: entries indexed from the DHT and the local
// leaf's shares survive a role change (supernode, leaf, supernode again)
// and a restart on the same index file, searchable and in the keyword
// table, while a remote leaf's shares (it registers again) do not; a
// damaged index file is replaced by an empty one rather than refusing to
// start.
func TestDHTEntriesPersist(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	open := func() *Supernode {
		s, err := NewSupernode(SupernodeConfig{Addr: "127.0.0.1:1", IndexPath: path})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open()
	if err := s.IndexDHT(ctx, []DHTEntry{{Entry: Entry{InfoHash: ih(1), Name: "Wombat burrow survey", Size: 10, Files: []string{"wombat/burrow.csv"}}, Swarm: 3}}, 100); err != nil {
		t.Fatal(err)
	}
	if err := s.putLocal(ctx, "127.0.0.1:7000", []Entry{{InfoHash: ih(2), Name: "Platypus notes", Size: 5}}, nil); err != nil {
		t.Fatal(err)
	}
	remote, err := s.idx.put(ctx, 7, "127.0.0.1:7001", []Entry{{InfoHash: ih(3), Name: "Echidna spines", Size: 5}}, 10)
	if err != nil || remote != 0 {
		t.Fatal(remote, err)
	}
	check := func(when string, wantLeaf, wantRemote bool) {
		t.Helper()
		if h := searchOne(t, s, "wombat burrow"); len(h) != 1 || !h[0].DHT || h[0].Swarm != 3 {
			t.Fatalf("%s: DHT entry hits %+v", when, h)
		}
		if !inTable(t, s, "wombat survey") {
			t.Fatalf("%s: DHT entry not in the keyword table", when)
		}
		if got := len(searchOne(t, s, "platypus")) == 1; got != wantLeaf || inTable(t, s, "platypus") != wantLeaf {
			t.Fatalf("%s: local share present %v, want %v", when, got, wantLeaf)
		}
		if got := len(searchOne(t, s, "echidna")) == 1; got != wantRemote || inTable(t, s, "echidna") != wantRemote {
			t.Fatalf("%s: remote leaf share present %v, want %v", when, got, wantRemote)
		}
	}
	check("indexed", true, true)
	s.deactivate(time.Now())
	check("stepped down to leaf", true, false)
	s.activate(time.Now())
	check("promoted again", true, false)
	if _, err := s.idx.put(ctx, 7, "127.0.0.1:7001", []Entry{{InfoHash: ih(3), Name: "Echidna spines", Size: 5}}, 10); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	check("restarted", true, false)
	if n, err := s.DHTEntries(ctx); err != nil || n != 1 {
		t.Fatalf("restarted: %d DHT entries (%v), want 1", n, err)
	}
	s.Close()

	// A damaged file: the supernode starts with an empty index.
	if err := os.WriteFile(path, []byte("not an SQLite file at all, just junk bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	s = open()
	defer s.Close()
	if n, err := s.DHTEntries(ctx); err != nil || n != 0 {
		t.Fatalf("damaged file: %d DHT entries (%v), want a new empty index", n, err)
	}
	if err := s.IndexDHT(ctx, []DHTEntry{{Entry: Entry{InfoHash: ih(1), Name: "Wombat burrow survey", Size: 10}, Swarm: 1}}, 100); err != nil {
		t.Fatal(err)
	}
}

// TestSearchCommonWordExact: a word with at least rankCandidates whole-word
// matches is searched as a whole word (prefix matches are not merged in),
// a rarer one still matches as a prefix, and both answer with hits.
func TestSearchCommonWordExact(t *testing.T) {
	ctx := context.Background()
	s := newTestSupernode(t)
	var entries []DHTEntry
	for i := range rankCandidates {
		var h [20]byte
		copy(h[:], fmt.Sprintf("otter%015d", i))
		entries = append(entries, DHTEntry{Entry: Entry{InfoHash: h, Name: fmt.Sprintf("otter clip %d", i), Size: 1}, Swarm: 1})
	}
	entries = append(entries, DHTEntry{Entry: Entry{InfoHash: ih(1), Name: "otters and ottersong", Size: 1}, Swarm: 1})
	if err := s.IndexDHT(ctx, entries, 10*rankCandidates); err != nil {
		t.Fatal(err)
	}
	if h := searchOne(t, s, "otter"); len(h) != 10 {
		t.Fatalf("common word: %d hits, want 10", len(h))
	}
	for _, h := range searchOne(t, s, "otter") {
		if h.InfoHash == ih(1) {
			t.Fatal("common word matched as a prefix (otters) though it has enough whole-word matches")
		}
	}
	if h := searchOne(t, s, "ottersong"); len(h) != 1 || h[0].InfoHash != ih(1) {
		t.Fatalf("rare word: hits %+v", h)
	}
	if h := searchOne(t, s, "otterso"); len(h) != 1 || h[0].InfoHash != ih(1) {
		t.Fatalf("rare prefix: hits %+v", h)
	}
}

// TestSearchCommonWordAfterGrowth: a search of a small index skips
// counting word matches (fewEntries), and the entries written after it
// count at once: a word that has since reached rankCandidates whole-word
// matches is matched whole by the very next search.
func TestSearchCommonWordAfterGrowth(t *testing.T) {
	ctx := context.Background()
	s := newTestSupernode(t)
	if err := s.IndexDHT(ctx, []DHTEntry{{Entry: Entry{InfoHash: ih(2), Name: "badger sett", Size: 1}, Swarm: 1}}, 10*rankCandidates); err != nil {
		t.Fatal(err)
	}
	if h := searchOne(t, s, "badg"); len(h) != 1 {
		t.Fatalf("small index: %d hits for a prefix, want 1", len(h))
	}
	var entries []DHTEntry
	for i := range rankCandidates {
		var h [20]byte
		copy(h[:], fmt.Sprintf("otter%015d", i))
		entries = append(entries, DHTEntry{Entry: Entry{InfoHash: h, Name: fmt.Sprintf("otter clip %d", i), Size: 1}, Swarm: 1})
	}
	// The newest and shortest name: first of all if "otter" matched it as a prefix.
	entries = append(entries, DHTEntry{Entry: Entry{InfoHash: ih(1), Name: "otters", Size: 1}, Swarm: 1})
	if err := s.IndexDHT(ctx, entries, 10*rankCandidates); err != nil {
		t.Fatal(err)
	}
	hits := searchOne(t, s, "otter")
	if len(hits) == 0 {
		t.Fatal("common word: no hits")
	}
	for _, h := range hits {
		if h.InfoHash == ih(1) {
			t.Fatal("common word matched as a prefix (otters): the entries written since the last count were not counted")
		}
	}
	if h := searchOne(t, s, "otte"); len(h) == 0 || h[0].InfoHash != ih(1) {
		t.Fatalf("rare prefix: hits %+v, want otters first", h)
	}
}

// TestSearchCommonWordWholeBesidePrefix: in a query of several words, a
// common word is matched whole even when another word is only a prefix,
// so that FTS5 never merges the document lists of every word it starts
// (before, one non-word made the whole query prefix-matched: "otter zeb"
// found "otters … zebra" and cost a full merge of otter*).
func TestSearchCommonWordWholeBesidePrefix(t *testing.T) {
	ctx := context.Background()
	s := newTestSupernode(t)
	var entries []DHTEntry
	for i := range rankCandidates {
		var h [20]byte
		copy(h[:], fmt.Sprintf("otter%015d", i))
		entries = append(entries, DHTEntry{Entry: Entry{InfoHash: h, Name: fmt.Sprintf("otter clip %d", i), Size: 1}, Swarm: 1})
	}
	entries = append(entries,
		DHTEntry{Entry: Entry{InfoHash: ih(1), Name: "otters and zebras", Size: 1}, Swarm: 1},
		DHTEntry{Entry: Entry{InfoHash: ih(2), Name: "otter zebra", Size: 1}, Swarm: 1})
	if err := s.IndexDHT(ctx, entries, 10*rankCandidates); err != nil {
		t.Fatal(err)
	}
	hits := searchOne(t, s, "otter zeb")
	if len(hits) != 1 || hits[0].InfoHash != ih(2) {
		t.Fatalf("otter zeb: %d hits %+v, want only ih(2) (otter whole, zeb as a prefix)", len(hits), hits)
	}
	if h := searchOne(t, s, "otte zebr"); len(h) != 2 {
		t.Fatalf("rare prefixes: %d hits, want both zebra entries", len(h))
	}
}

// TestSearchRanking: entries with every word in their name come before
// entries matched only through their file paths, whatever their age, and
// among name matches the shortest name comes first.
func TestSearchRanking(t *testing.T) {
	ctx := context.Background()
	s := newTestSupernode(t)
	entries := []DHTEntry{
		{Entry: Entry{InfoHash: ih(1), Name: "walrus documentary collection extended edition", Size: 1}, Swarm: 1},
		{Entry: Entry{InfoHash: ih(2), Name: "walrus", Size: 1}, Swarm: 1},
		{Entry: Entry{InfoHash: ih(3), Name: "arctic animals", Files: []string{"walrus.mkv"}, Size: 1}, Swarm: 1},
		{Entry: Entry{InfoHash: ih(4), Name: "walrus documentary", Size: 1}, Swarm: 1},
	}
	for _, e := range entries { // one at a time: ih(4) is the newest row
		if err := s.IndexDHT(ctx, []DHTEntry{e}, 100); err != nil {
			t.Fatal(err)
		}
	}
	hits := searchOne(t, s, "walrus")
	var got []byte
	for _, h := range hits {
		got = append(got, h.InfoHash[0])
	}
	if want := []byte{ih(2)[0], ih(4)[0], ih(1)[0], ih(3)[0]}; !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}
