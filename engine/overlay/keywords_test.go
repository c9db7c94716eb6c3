package overlay

import (
	"context"
	"log/slog"
	"slices"
	"testing"
)

func TestTermAndQueryKeys(t *testing.T) {
	t.Parallel()
	keys := termKeys(nil, "bunnyhopper")
	if len(keys) != 9 { // prefixes of 1..8 and 10 runes (11 < 12)
		t.Fatalf("%d keys", len(keys))
	}
	for _, q := range []string{"b", "bun", "bunnyhop", "bunnyhopp", "bunnyhoppe", "bunnyhopper"} {
		if !slices.Contains(keys, queryKey(q)) {
			t.Errorf("query %q not covered by the term's keys", q)
		}
	}
	if slices.Contains(keys, queryKey("bunnies")) || slices.Contains(keys, queryKey("x")) {
		t.Error("unrelated words share keys")
	}
	// Runes, not bytes.
	if !slices.Contains(termKeys(nil, "ééé"), queryKey("éé")) {
		t.Error("multi-byte prefix missing")
	}
}

func TestChooseBits(t *testing.T) {
	t.Parallel()
	// With tableSparsity 32 bits per key.
	cases := []struct {
		n    int
		prev uint8
		want uint8
	}{
		{0, 0, MinTableBits},
		{10, 0, MinTableBits},
		{1000, 0, 15},               // 32000 bits wanted
		{1000, 16, 16},              // emptier, within 4x: keep
		{1000, 18, 15},              // far too empty: shrink
		{1000, 14, 14},              // 16384 >= 16000: keep
		{1100, 14, 16},              // over twice the aim: grow to the aim
		{1 << 20, 0, MaxTableBits},  // capped
		{1 << 20, 12, MaxTableBits}, // capped
		{10, MinTableBits, MinTableBits},
	}
	for _, c := range cases {
		if got := chooseBits(c.n, c.prev); got != c.want {
			t.Errorf("chooseBits(%d, %d) = %d, want %d", c.n, c.prev, got, c.want)
		}
	}
}

func TestTableEncodeAndDelta(t *testing.T) {
	t.Parallel()
	a := buildTable([]uint32{1, 5, 64, 1000, 1023, 1<<31 + 7}, 10)
	full := newTable(10)
	if err := full.applyPositions(encodePositions(a.positions(nil))); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(full.words, a.words) {
		t.Fatal("full table did not round-trip")
	}
	b := buildTable([]uint32{5, 64, 999, 7}, 10)
	patched := a.clone()
	if err := patched.applyPositions(encodePositions(b.positions(a))); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(patched.words, b.words) {
		t.Fatal("delta did not turn a into b")
	}
	if !b.matchAll([]uint32{5, 7}) || b.matchAll([]uint32{5, 1}) || !(*kwTable)(nil).matchAll([]uint32{1}) {
		t.Fatal("matchAll")
	}
	for _, bad := range [][]byte{{0x80}, encodePositions([]uint32{1024}), {5, 0xff, 0xff, 0xff, 0xff, 0x0f}} {
		if err := newTable(10).applyPositions(bad); err == nil {
			t.Errorf("bad positions %x accepted", bad)
		}
	}
}

func TestTableLimits(t *testing.T) {
	t.Parallel()
	for _, b := range []int{MinTableBits - 1, MaxTableBits + 1, 32} {
		if err := checkTableBits(b); err == nil {
			t.Errorf("2^%d bits accepted", b)
		}
	}
	dense := newTable(10)
	for p := uint32(0); p < 600; p++ {
		dense.set(p)
	}
	if err := dense.checkDensity(); err == nil {
		t.Error("table 600/1024 full accepted")
	}
	if err := buildTable([]uint32{1, 2, 3}, 10).checkDensity(); err != nil {
		t.Error(err)
	}
}

func TestKeyCounts(t *testing.T) {
	t.Parallel()
	k := newKeyCounts()
	k.add([]uint32{1, 2}, 1)
	k.add([]uint32{2, 3}, 1)
	v1, a1 := k.versions()
	k.add([]uint32{2}, 1) // no new key
	if v, a := k.versions(); v != v1 || a != a1 {
		t.Fatal("a count change without a key change moved the versions")
	}
	k.add([]uint32{1, 2}, -1)
	if k.hasAll([]uint32{1}) || !k.hasAll([]uint32{2, 3}) || k.size() != 2 {
		t.Fatalf("keys %v", k.keys())
	}
	if v, a := k.versions(); v == v1 || a != a1 {
		t.Fatal("a removal must move version but not added")
	}
	k.add([]uint32{9}, -1) // never there: ignored
	if k.size() != 2 {
		t.Fatal("negative count stored")
	}
}

// TestTableMatchesIndex: whatever the FTS5 index matches, the keyword
// table built from the same entries matches too (case, accents, prefixes,
// decomposed text, non-Latin scripts), and words it lacks do not.
func TestTableMatchesIndex(t *testing.T) {
	t.Parallel()
	x, err := openIndex(t.TempDir()+"/i.db", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	ctx := context.Background()
	entries := []Entry{
		{InfoHash: ih(1), Name: "Café del Mar — Volumen Uno", Files: []string{"CD1/01 Señorita.flac"}},
		{InfoHash: ih(2), Name: "Cafe\u0301 decomposed"},
		{InfoHash: ih(3), Name: "हिन्दी गाने", Files: []string{"ὈΔΥΣΣΕΎΣ.txt"}},
		{InfoHash: ih(4), Name: "Ǆemal İstanbul 1080p.x264"},
	}
	if _, err := x.put(ctx, 1, "127.0.0.1:1", entries, 100); err != nil {
		t.Fatal(err)
	}
	table := buildTable(x.kw.keys(), chooseBits(x.kw.size(), 0))
	queries := []string{"café", "CAFE", "caf", "volumen uno", "senorita", "01", "flac", "cd1",
		"हिन्दी", "गाने", "ὀδυσσεύσ", "ὈΔΥΣΣ", "ǆemal", "istanbul", "x264", "1080", "décomposed", "del mar"}
	for _, q := range queries {
		hits, err := x.search(ctx, q, 10)
		if err != nil || len(hits) == 0 {
			t.Errorf("index: %q: %d hits, %v", q, len(hits), err)
			continue
		}
		keys, err := x.queryKeys(ctx, q)
		if err != nil || !table.matchAll(keys) || !x.kw.hasAll(keys) {
			t.Errorf("table does not match %q (keys %v, %v)", q, keys, err)
		}
	}
	for _, q := range []string{"zebra", "cafe zebra", "volumes"} {
		keys, _ := x.queryKeys(ctx, q)
		if x.kw.hasAll(keys) {
			t.Errorf("keys match %q, which is not there", q)
		}
	}
}

// TestCountedLeaves: a standby leaf's entries are searchable but stay out
// of the keys until it becomes primary; removal takes keys away.
func TestCountedLeaves(t *testing.T) {
	t.Parallel()
	x, err := openIndex("", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer x.close()
	ctx := context.Background()
	if err := x.setCounted(ctx, 2, false); err != nil {
		t.Fatal(err)
	}
	x.put(ctx, 2, "127.0.0.1:2", []Entry{{InfoHash: ih(1), Name: "standby song"}}, 10)
	x.put(ctx, 3, "127.0.0.1:3", []Entry{{InfoHash: ih(2), Name: "primary tune"}}, 10)
	has := func(w string) bool {
		keys, err := x.queryKeys(ctx, w)
		return err == nil && x.kw.hasAll(keys)
	}
	if has("standby") || !has("primary") || !indexed2(x, "standby") {
		t.Fatal("standby entries must be indexed but not counted")
	}
	x.setCounted(ctx, 2, true)
	if !has("standby") {
		t.Fatal("primary again: keys missing")
	}
	x.put(ctx, 3, "127.0.0.1:3", []Entry{{InfoHash: ih(2), Name: "renamed tune"}}, 10)
	if has("primary") || !has("renamed") {
		t.Fatal("update did not move keys")
	}
	x.removeLeaf(ctx, 2)
	x.remove(ctx, 3, [][20]byte{ih(2)})
	if x.kw.size() != 0 {
		t.Fatalf("%d keys left after every entry went", x.kw.size())
	}
}

func indexed2(x *index, w string) bool {
	hits, err := x.search(context.Background(), w, 10)
	return err == nil && len(hits) > 0
}

// FuzzTablePositions: any bytes either decode into positions inside the
// table or are refused; a table always re-encodes to itself.
func FuzzTablePositions(f *testing.F) {
	f.Add(uint8(10), encodePositions([]uint32{0, 1, 1023}))
	f.Add(uint8(12), []byte{0x80})
	f.Add(uint8(10), encodePositions([]uint32{1024}))
	f.Add(uint8(20), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, bits uint8, b []byte) {
		bits = MinTableBits + bits%(MaxTableBits-MinTableBits+1)
		tb := newTable(bits)
		if err := tb.applyPositions(b); err != nil {
			return
		}
		again := newTable(bits)
		if err := again.applyPositions(encodePositions(tb.positions(nil))); err != nil || !slices.Equal(again.words, tb.words) {
			t.Fatalf("re-encoding differs: %v", err)
		}
	})
}
