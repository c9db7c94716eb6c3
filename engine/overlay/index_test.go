package overlay

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var indexEntries = []Entry{
	{InfoHash: ih(1), Name: "Café del Mar - Chillout Sessions", Size: 100, Files: []string{"CD1/01 Crème brûlée.flac", "CD1/02 Sunset.flac"}},
	{InfoHash: ih(2), Name: "Ubuntu 24.04 Desktop amd64", Size: 200, Files: []string{"ubuntu-24.04-desktop-amd64.iso"}},
	{InfoHash: ih(3), Name: "NEAR and far", Size: 300, Files: []string{"docs/readme.txt"}},
	{InfoHash: ih(4), Name: `Quote "this" -minus* (col:name)`, Size: 400},
	{InfoHash: ih(5), Name: "ÆON FLUX Über Straße 東京", Size: 500},
}

// queryCases is the table for matching; its inputs also seed FuzzQueryWords.
var queryCases = []struct {
	words string
	want  [][20]byte
	err   error
}{
	{words: "cafe", want: [][20]byte{ih(1)}},
	{words: "CAFÉ", want: [][20]byte{ih(1)}},
	{words: "café", want: [][20]byte{ih(1)}},
	{words: "caf", want: [][20]byte{ih(1)}},                  // prefix
	{words: "chill mar", want: [][20]byte{ih(1)}},            // AND, prefixes
	{words: "creme brulee", want: [][20]byte{ih(1)}},         // file path, accents folded
	{words: "cafe ubuntu", want: nil},                        // AND: no entry has both
	{words: "ubu 24", want: [][20]byte{ih(2)}},               // digits
	{words: "amd64 iso", want: [][20]byte{ih(2)}},            // "iso" only in a path
	{words: "readme", want: [][20]byte{ih(3)}},               // path only
	{words: "NEAR", want: [][20]byte{ih(3)}},                 // a word, not an operator
	{words: `NEAR(cafe mar)`, want: nil},                     // not an operator either
	{words: `"near`, want: [][20]byte{ih(3)}},                // stray quote
	{words: `near*`, want: [][20]byte{ih(3)}},                // star is dropped; still a prefix
	{words: `-far`, want: [][20]byte{ih(3)}},                 // minus is not NOT
	{words: `cafe OR ubuntu`, want: nil},                     // OR is a word
	{words: `cafe AND`, want: nil},                           // AND is a word ("and" is in entry 3 only)
	{words: `near NOT far`, want: nil},                       // NOT is a word
	{words: `name:cafe`, want: nil},                          // no column filters
	{words: `^cafe`, want: [][20]byte{ih(1)}},                // no initial-token anchor
	{words: `"this" minus`, want: [][20]byte{ih(4)}},         // quotes in the data too
	{words: `col name`, want: [][20]byte{ih(4)}},             //
	{words: "aeon", want: nil},                               // Æ is not decomposed
	{words: "æon uber strasse", want: nil},                   // ß is not expanded
	{words: "æon über straße", want: [][20]byte{ih(5)}},      //
	{words: "AEON", want: nil},                               //
	{words: "東京", want: [][20]byte{ih(5)}},                   //
	{words: "", err: ErrBadQuery},                            // nothing
	{words: `!!! *** "" () -`, err: ErrBadQuery},             // only syntax
	{words: "\u0301\u0301", err: ErrBadQuery},                // only combining marks
	{words: "a b c d e f g h i", err: ErrBadQuery},           // 9 words
	{words: strings.Repeat("x", 257), err: ErrBadQuery},      // too long
	{words: "caf\xff", err: ErrBadQuery},                     // not UTF-8
	{words: "cafe\x00mar", want: [][20]byte{ih(1)}},          // NUL is a separator
	{words: "a b c d e f g h", want: nil},                    // 8 words is fine
	{words: "Chillout\tsessions\n", want: [][20]byte{ih(1)}}, //
}

func openTestIndex(t testing.TB) *index {
	t.Helper()
	x, err := openIndex(filepath.Join(t.TempDir(), "index.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.close() })
	if _, err := x.put(context.Background(), 1, "127.0.0.1:1001", indexEntries, 100); err != nil {
		t.Fatal(err)
	}
	return x
}

func hitHashes(hits []Hit) [][20]byte {
	var out [][20]byte
	for _, h := range hits {
		out = append(out, h.InfoHash)
	}
	return out
}

func TestIndexMatching(t *testing.T) {
	t.Parallel()
	x := openTestIndex(t)
	for _, tc := range queryCases {
		hits, err := x.search(context.Background(), tc.words, 10)
		if !errors.Is(err, tc.err) {
			t.Errorf("search %q: err %v, want %v", tc.words, err, tc.err)
			continue
		}
		if got := hitHashes(hits); !slices.Equal(got, tc.want) {
			t.Errorf("search %q: got %x, want %x", tc.words, got, tc.want)
		}
	}
}

func TestIndexSourcesAndRemoval(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := openTestIndex(t)
	// Leaf 2 registers infohash 1 under another name: it is a source even
	// for words only leaf 1's name contains.
	other := Entry{InfoHash: ih(1), Name: "renamed copy", Size: 100}
	if _, err := x.put(ctx, 2, "127.0.0.1:1002", []Entry{other, indexEntries[1]}, 100); err != nil {
		t.Fatal(err)
	}
	hits, err := x.search(ctx, "cafe", 10)
	if err != nil || len(hits) != 1 {
		t.Fatalf("search: %v %v", hits, err)
	}
	if want := []string{"127.0.0.1:1001", "127.0.0.1:1002"}; !slices.Equal(hits[0].Sources, want) {
		t.Fatalf("sources %v, want %v", hits[0].Sources, want)
	}
	if hits[0].Name != indexEntries[0].Name || len(hits[0].Files) != 2 {
		t.Fatalf("hit %+v: want name and files of the matching entry", hits[0])
	}
	if err := x.removeLeaf(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if hits, _ := x.search(ctx, "cafe", 10); len(hits) != 0 {
		t.Fatalf("after leaf 1 left, cafe still matches %v", hits)
	}
	hits, _ = x.search(ctx, "renamed", 10)
	if len(hits) != 1 || !slices.Equal(hits[0].Sources, []string{"127.0.0.1:1002"}) {
		t.Fatalf("renamed: %+v", hits)
	}
	if err := x.remove(ctx, 2, [][20]byte{ih(1)}); err != nil {
		t.Fatal(err)
	}
	if hits, _ := x.search(ctx, "renamed", 10); len(hits) != 0 {
		t.Fatalf("after removal: %+v", hits)
	}
	if n, _ := x.count(ctx, 2); n != 1 {
		t.Fatalf("leaf 2 has %d entries, want 1", n)
	}
}

func TestIndexUpdateAndQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := openTestIndex(t)
	renamed := indexEntries[0]
	renamed.Name = "Totally different"
	refused, err := x.put(ctx, 1, "127.0.0.1:1001", []Entry{renamed}, 5)
	if err != nil || refused != 0 {
		t.Fatalf("update at quota: refused %d, %v", refused, err)
	}
	if hits, _ := x.search(ctx, "chillout", 10); len(hits) != 0 {
		t.Fatalf("old name still indexed: %+v", hits)
	}
	if hits, _ := x.search(ctx, "totally", 10); len(hits) != 1 {
		t.Fatalf("new name not indexed: %+v", hits)
	}
	refused, err = x.put(ctx, 1, "127.0.0.1:1001", []Entry{{InfoHash: ih(9), Name: "one too many"}}, 5)
	if err != nil || refused != 1 {
		t.Fatalf("over quota: refused %d, %v", refused, err)
	}
	if n, _ := x.count(ctx, 1); n != 5 {
		t.Fatalf("count %d, want 5", n)
	}
}

func TestIndexHitLimitAndGrouping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := openTestIndex(t)
	var many []Entry
	for i := range 30 {
		many = append(many, Entry{InfoHash: ih(byte(100 + i)), Name: "series episode", Size: int64(i)})
	}
	for leaf := int64(10); leaf < 13; leaf++ {
		if _, err := x.put(ctx, leaf, "127.0.0.1:2000", many, 100); err != nil {
			t.Fatal(err)
		}
	}
	hits, err := x.search(ctx, "episode", 7)
	if err != nil || len(hits) != 7 {
		t.Fatalf("want 7 grouped hits, got %d, %v", len(hits), err)
	}
	seen := map[[20]byte]bool{}
	for _, h := range hits {
		if seen[h.InfoHash] {
			t.Fatalf("infohash %x twice", h.InfoHash)
		}
		seen[h.InfoHash] = true
		if len(h.Sources) != 1 { // three leaves, one address
			t.Fatalf("sources %v", h.Sources)
		}
	}
}

// FuzzQueryWords checks that no user input makes SQLite reject the query:
// either the sanitizer refuses it with ErrBadQuery or the search runs.
func FuzzQueryWords(f *testing.F) {
	for _, tc := range queryCases {
		f.Add(tc.words)
	}
	x := openTestIndex(f)
	f.Fuzz(func(t *testing.T, words string) {
		q, err := ftsQuery(words)
		if err != nil {
			if !errors.Is(err, ErrBadQuery) {
				t.Fatalf("ftsQuery(%q): %v", words, err)
			}
			return
		}
		if strings.Count(q, " AND ")+1 > maxQueryWords {
			t.Fatalf("ftsQuery(%q) = %q: too many words", words, q)
		}
		if _, err := x.search(context.Background(), words, 5); err != nil {
			t.Fatalf("search(%q) via %q: %v", words, q, err)
		}
	})
}

// TestIndexGroupsNames: one infohash registered under two names by two
// leaves is one hit carrying both names and both sources.
func TestIndexGroupsNames(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	x := openTestIndex(t)
	x.put(ctx, 1, "127.0.0.1:1", []Entry{{InfoHash: ih(1), Name: "Movie 2024 1080p"}}, 10)
	x.put(ctx, 2, "127.0.0.1:2", []Entry{{InfoHash: ih(1), Name: "movie.2024.x264"}}, 10)
	x.put(ctx, 3, "127.0.0.1:3", []Entry{{InfoHash: ih(1), Name: "Movie 2024 1080p"}}, 10)
	hits, err := x.search(ctx, "movie 2024", 10)
	if err != nil || len(hits) != 1 {
		t.Fatalf("%d hits, %v", len(hits), err)
	}
	h := hits[0]
	if len(h.Names) != 2 || h.Names[0] != h.Name || len(h.Sources) != 3 {
		t.Fatalf("hit %+v", h)
	}
}

// TestMemoryIndexSurvivesCancelledTx: database/sql throws away the
// connection of a transaction whose context ends before commit, and an
// in-memory index dies with it (seen when a supernode starved for CPU hit
// dropLeafTimeout: every later write failed with "no such table"). The
// index's transactions run to their end whatever their context does.
func TestMemoryIndexSurvivesCancelledTx(t *testing.T) {
	t.Parallel()
	x, err := openIndex("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	ctx := context.Background()
	if _, err := x.put(ctx, 1, "127.0.0.1:1", []Entry{{InfoHash: ih(1), Name: "kept album"}}, 10); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithCancel(ctx)
	tx, err := x.begin(tctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	time.Sleep(100 * time.Millisecond) // database/sql would roll back and discard here
	if _, err := tx.ExecContext(ctx, `DELETE FROM entries WHERE leaf = 1`); err != nil {
		t.Fatalf("transaction cut short by its context: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := x.put(ctx, 2, "127.0.0.1:2", []Entry{{InfoHash: ih(2), Name: "new album"}}, 10); err != nil {
		t.Fatalf("write after a cancelled transaction: %v", err)
	}
	for _, w := range []string{"kept", "new"} {
		if !indexed2(x, w) {
			t.Errorf("%q lost", w)
		}
	}
}
