package overlay

import (
	"context"
	"database/sql"
	"encoding/hex"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// v2cut is h32(b) cut to 20 bytes, as a v2-only torrent's infohash.
func v2cut(b byte) [20]byte {
	h := h32(b)
	return [20]byte(h[:20])
}

func hex20of(h [20]byte) string { return hex.EncodeToString(h[:]) }

func hex32(b byte) string {
	h := h32(b)
	return hex.EncodeToString(h[:])
}

func h32(b byte) [32]byte {
	var h [32]byte
	for i := range h {
		h[i] = b
	}
	return h
}

// hashEntries are a hybrid (v1 infohash and v2), a v2-only torrent (its
// infohash the v2 one cut to 20 bytes) and a v1 torrent, the first two
// sharing a file (the same pieces root).
var hashEntries = []Entry{
	{InfoHash: ih(0x11), Name: "hybrid album", Size: 10, Files: []string{"a.flac", "b.flac"}, V2: h32(0xa1), Roots: [][32]byte{h32(0xc1), h32(0xc2)}},
	{InfoHash: v2cut(0xa2), Name: "v2 only album", Size: 20, Files: []string{"b.flac"}, V2: h32(0xa2), Roots: [][32]byte{h32(0xc2)}},
	{InfoHash: ih(0x13), Name: "v1 album", Size: 30},
}

// hashCases is the table for hash search: each query and the infohashes
// it finds.
var hashCases = []struct {
	words string
	want  [][20]byte
}{
	{hex20of(ih(0x11)), [][20]byte{ih(0x11)}},                  // v1 infohash of a hybrid
	{strings.ToUpper(hex20of(ih(0x13))), [][20]byte{ih(0x13)}}, // v1, upper case
	{hex32(0xa1), [][20]byte{ih(0x11)}},                        // v2 infohash of a hybrid
	{"1220" + hex32(0xa1), [][20]byte{ih(0x11)}},               // as a btmh multihash
	{hex32(0xa2), [][20]byte{v2cut(0xa2)}},                     // v2 infohash of a v2-only torrent
	{hex20of(v2cut(0xa2)), [][20]byte{v2cut(0xa2)}},            // …cut to 20 bytes
	{hex32(0xc1), [][20]byte{ih(0x11)}},                        // a pieces root
	{" " + hex32(0xc2), [][20]byte{ih(0x11), v2cut(0xa2)}},     // a file in two torrents
	{hex32(0xc3), nil},                                         // unknown root
	{hex20of(ih(0x14)), nil},                                   // unknown infohash
	{"album", [][20]byte{ih(0x11), v2cut(0xa2), ih(0x13)}},     // words still work
}

func TestIndexSearchByHash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x, err := openIndex(filepath.Join(t.TempDir(), "index.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	if _, err := x.put(ctx, 1, "127.0.0.1:1001", hashEntries, 100); err != nil {
		t.Fatal(err)
	}
	for _, tc := range hashCases {
		hits, err := x.search(ctx, tc.words, 10)
		if err != nil {
			t.Fatalf("search %q: %v", tc.words, err)
		}
		got := hitHashes(hits)
		slices.SortFunc(got, func(a, b [20]byte) int { return slices.Compare(a[:], b[:]) })
		want := slices.Clone(tc.want)
		slices.SortFunc(want, func(a, b [20]byte) int { return slices.Compare(a[:], b[:]) })
		if !slices.Equal(got, want) {
			t.Errorf("search %q: got %x, want %x", tc.words, got, want)
		}
		for _, h := range hits {
			if h.InfoHash == ih(0x11) && h.V2 != h32(0xa1) {
				t.Errorf("search %q: hybrid hit has v2 %x, want %x", tc.words, h.V2, h32(0xa1))
			}
			if len(h.Sources) != 1 {
				t.Errorf("search %q: hit sources %v, want the leaf", tc.words, h.Sources)
			}
		}
		keys, err := x.queryKeys(ctx, tc.words)
		if err != nil {
			t.Fatal(err)
		}
		if has := x.kw.hasAll(keys); has != (len(tc.want) > 0) {
			t.Errorf("search %q: keyword table has its keys: %v, want %v", tc.words, has, len(tc.want) > 0)
		}
	}
	// Updating the entry without its v2 hashes forgets them.
	if _, err := x.put(ctx, 1, "127.0.0.1:1001", []Entry{{InfoHash: ih(0x11), Name: "hybrid album", Size: 10}}, 100); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{hex32(0xa1), hex32(0xc1)} {
		if hits, _ := x.search(ctx, q, 10); len(hits) != 0 {
			t.Errorf("search %q after the v2 hashes were dropped: %d hits", q, len(hits))
		}
		keys, _ := x.queryKeys(ctx, q)
		if x.kw.hasAll(keys) {
			t.Errorf("search %q: key still in the table after the v2 hashes were dropped", q)
		}
	}
	// Removing the leaf removes its hashes too.
	if err := x.removeLeaf(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := x.db.QueryRow(`SELECT count(*) FROM entry_hashes`).Scan(&n); err != nil || n != 0 {
		t.Errorf("entry_hashes after removing the leaf: %d rows (%v), want 0", n, err)
	}
}

// indexSchemaV1 is the index as version 1 made it.
const indexSchemaV1 = `
PRAGMA application_id = 0x53484f4c;
CREATE TABLE entries (
	id INTEGER PRIMARY KEY, leaf INTEGER NOT NULL, infohash BLOB NOT NULL, name TEXT NOT NULL,
	size INTEGER NOT NULL, files TEXT NOT NULL, source TEXT NOT NULL, UNIQUE (leaf, infohash)
);
CREATE INDEX entries_infohash ON entries (infohash);
CREATE VIRTUAL TABLE entries_fts USING fts5 (name, files, content = 'entries', content_rowid = 'id',
	tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN
	INSERT INTO entries_fts (rowid, name, files) VALUES (new.id, new.name, new.files);
END;
CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN
	INSERT INTO entries_fts (entries_fts, rowid, name, files) VALUES ('delete', old.id, old.name, old.files);
END;
CREATE TRIGGER entries_au AFTER UPDATE ON entries BEGIN
	INSERT INTO entries_fts (entries_fts, rowid, name, files) VALUES ('delete', old.id, old.name, old.files);
	INSERT INTO entries_fts (rowid, name, files) VALUES (new.id, new.name, new.files);
END;
` + termsSchema + dhtSchema + `PRAGMA user_version = 1;`

// TestIndexMigratesVersion1 reopens a version 1 file: its DHT entries
// stay, are found by words and by infohash, and v2 entries can be added.
func TestIndexMigratesVersion1(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(indexSchemaV1 + `
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
	for _, q := range []string{"old dht", strings.Repeat("22", 20)} {
		hits, err := x.search(ctx, q, 10)
		if err != nil || len(hits) != 1 || !hits[0].DHT {
			t.Errorf("search %q in the migrated index: %+v, %v; want the DHT entry", q, hits, err)
		}
		keys, _ := x.queryKeys(ctx, q)
		if !x.kw.hasAll(keys) {
			t.Errorf("search %q: keys not counted after the migration", q)
		}
	}
	if _, err := x.put(ctx, 1, "127.0.0.1:1001", hashEntries, 100); err != nil {
		t.Fatal(err)
	}
	if hits, err := x.search(ctx, hex32(0xc1), 10); err != nil || len(hits) != 1 {
		t.Errorf("search by root in the migrated index: %d hits, %v", len(hits), err)
	}
}

// TestWireEntryV2 sends an entry's v2 hashes through a share frame's JSON
// and back, and an entry without them stays without.
func TestWireEntryV2(t *testing.T) {
	t.Parallel()
	for _, e := range hashEntries {
		got := fromWireEntry(toWireEntry(e))
		if !sameEntry(got, e) {
			t.Errorf("entry %x: back from the wire as %+v", e.InfoHash, got)
		}
	}
	h := Hit{InfoHash: ih(1), Name: "x", V2: h32(9)}
	if got := fromWireHit(toWireHit(h)); got.V2 != h.V2 {
		t.Errorf("hit v2 back from the wire: %x", got.V2)
	}
}

// FuzzHashQuery: whatever the words, hashQuery returns 40 or 64 lower-case
// hex digits or nothing, a hash32 decodes only 64 hex digits and encodes
// back to them, and a search of any words does not fail on a hash.
func FuzzHashQuery(f *testing.F) {
	for _, tc := range hashCases {
		f.Add(tc.words)
	}
	f.Add("1220" + strings.Repeat("g", 64))
	f.Fuzz(func(t *testing.T, words string) {
		if h, ok := hashQuery(words); ok {
			if (len(h) != 40 && len(h) != 64) || strings.Trim(h, "0123456789abcdef") != "" {
				t.Fatalf("hashQuery(%q) = %q", words, h)
			}
		}
		var h hash32
		if err := h.UnmarshalText([]byte(words)); err == nil {
			back, _ := h.MarshalText()
			if !strings.EqualFold(string(back), words) {
				t.Fatalf("hash32 %q back as %q", words, back)
			}
		}
	})
}
