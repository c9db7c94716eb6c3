package overlay

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func advertOf(origin string, seq, base uint64, t *kwTable, prev *kwTable, links ...string) *message {
	m := &message{Type: typeAdvert, Origin: origin, Seq: seq, Base: base, Bits: int(t.bits), Links: links, Cap: 10}
	if base == 0 || prev != nil && prev.bits != t.bits {
		prev = nil
	}
	m.Table = encodePositions(t.positions(prev))
	return m
}

func TestAdvertStore(t *testing.T) {
	t.Parallel()
	a := newAdvertStore()
	now := time.Now()
	t1 := buildTable([]uint32{1, 2}, 10)
	t2 := buildTable([]uint32{2, 3}, 10)
	t3 := buildTable([]uint32{4}, 10)
	const o = "127.0.0.1:1"
	steps := []struct {
		m    *message
		want advertResult
		has  []uint32 // keys the stored table must match (nil: table unknown)
	}{
		{advertOf(o, 10, 0, t1, nil), advertApplied, []uint32{1, 2}},
		{advertOf(o, 10, 0, t1, nil), advertStale, []uint32{1, 2}},     // duplicate
		{advertOf(o, 9, 0, t3, nil), advertStale, []uint32{1, 2}},      // older
		{advertOf(o, 11, 10, t2, t1), advertApplied, []uint32{2, 3}},   // delta
		{advertOf(o, 13, 12, t3, t2), advertGap, nil},                  // missed 12
		{advertOf(o, 13, 0, t3, nil), advertApplied, []uint32{4}},      // the whole table fills the gap
		{advertOf(o, 14, 13, buildTable(nil, 11), t3), advertGap, nil}, // size changed without a whole table
	}
	for i, st := range steps {
		got, _, err := a.apply(st.m, now)
		if err != nil || got != st.want {
			t.Fatalf("step %d: %v %v, want %v", i, got, err, st.want)
		}
		table := a.m[o].table
		if (table == nil) != (st.has == nil) || table != nil && !table.matchAll(st.has) {
			t.Fatalf("step %d: table %v", i, table)
		}
	}
	// A view with a gap is not listed in the digest, so that a neighbour
	// holding the whole table sends it (before, the digest listed seq 14
	// and no neighbour ever did: the view stayed stale).
	if d := a.digest(); len(d) != 0 {
		t.Fatalf("digest lists a view whose table is unknown: %+v", d)
	}
	b := newAdvertStore()
	b.apply(advertOf(o, 14, 0, t2, nil), now)
	full := b.newerThan(a.digest(), now, time.Hour)
	if len(full) != 1 || full[0].Base != 0 || full[0].Seq != 14 {
		t.Fatalf("neighbour answers the digest with %+v, want the whole table of seq 14", full)
	}
	if res, _, err := a.apply(full[0], now); err != nil || res != advertApplied || !a.m[o].table.matchAll([]uint32{2, 3}) {
		t.Fatalf("whole table after a gap: %v %v", res, err)
	}
	if d := a.digest(); len(d) != 1 || d[0].Seq != 14 {
		t.Fatalf("digest %+v", d)
	}
	a.apply(advertOf(o, 15, 0, t1, nil), now)
	if got := a.newerThan([]digestEntry{{Origin: o, Seq: 14}}, now, 0); len(got) != 1 || got[0].Base != 0 || got[0].Seq != 15 {
		t.Fatalf("newerThan %+v", got)
	}
	if got := a.newerThan([]digestEntry{{Origin: o, Seq: 14}}, now, time.Second); len(got) != 0 {
		t.Fatalf("newerThan within the grace: %+v", got)
	}
	if got := a.newerThan(nil, now, time.Second); len(got) != 1 {
		t.Fatalf("newerThan for a digest lacking the origin: %+v", got)
	}
	if got := a.newerThan([]digestEntry{{Origin: o, Seq: 15}}, now, 0); len(got) != 0 {
		t.Fatalf("newerThan up to date: %+v", got)
	}
	// An origin that changes every second, more often than the grace: a
	// neighbour a change behind is left alone (that advert is on its way),
	// but one that missed adverts we held longer than the grace gets the
	// whole table. Before, nothing was sent while our latest was younger
	// than the grace, so such a view stayed stale while the origin kept
	// changing.
	c := newAdvertStore()
	for i := range 9 {
		c.apply(advertOf(o, uint64(20+i), 0, t1, nil), now.Add(time.Duration(i)*time.Second))
	}
	at := now.Add(8*time.Second + 100*time.Millisecond) // seq 28 arrived 100 ms ago
	if got := c.newerThan([]digestEntry{{Origin: o, Seq: 27}}, at, 5*time.Second); len(got) != 0 {
		t.Fatalf("a neighbour one change behind got %+v", got)
	}
	if got := c.newerThan([]digestEntry{{Origin: o, Seq: 20}}, at, 5*time.Second); len(got) != 1 || got[0].Seq != 28 {
		t.Fatalf("a neighbour 8 changes behind while the origin keeps changing got %+v, want the whole table of seq 28", got)
	}
	a.expire(now.Add(time.Second))
	if len(a.m) != 0 {
		t.Fatal("silent origin not expired")
	}
}

func TestAdvertRefusesBigTables(t *testing.T) {
	t.Parallel()
	a := newAdvertStore()
	dense := newTable(10)
	for p := uint32(0); p < 700; p++ {
		dense.set(p)
	}
	for _, m := range []*message{
		{Type: typeAdvert, Origin: "127.0.0.1:1", Seq: 1, Bits: MaxTableBits + 1},
		advertOf("127.0.0.1:1", 1, 0, dense, nil),
	} {
		if _, _, err := a.apply(m, time.Now()); !errors.Is(err, ErrTableTooLarge) {
			t.Errorf("advert with 2^%d bits: %v", m.Bits, err)
		}
	}
	if len(a.m) != 0 {
		t.Fatal("refused advert stored")
	}
	// A change that would make a held table too dense leaves it as it was.
	t1 := buildTable([]uint32{1}, 10)
	a.apply(advertOf("127.0.0.1:2", 1, 0, t1, nil), time.Now())
	if _, _, err := a.apply(advertOf("127.0.0.1:2", 2, 1, dense, t1), time.Now()); !errors.Is(err, ErrTableTooLarge) {
		t.Fatalf("dense change: %v", err)
	}
	if st := a.m["127.0.0.1:2"]; st.seq != 1 || !slices.Equal(st.table.words, t1.words) {
		t.Fatal("refused change altered the held table")
	}
}

func TestTreeChildren(t *testing.T) {
	t.Parallel()
	// r - a - c      r - b - c      b - d      c - e
	// c has two parents (a and b): both send to it; e has one.
	g := routeGraph{"r": {"a", "b"}, "a": {"r", "c"}, "b": {"r", "c", "d"}, "c": {"a", "b", "e"}, "d": {"b"}, "e": {"c"}}
	sets := map[string]map[string]bool{}
	for n, nbs := range g {
		sets[n] = map[string]bool{}
		for _, m := range nbs {
			sets[n][m] = true
		}
	}
	for _, tc := range []struct {
		self string
		kids []string
	}{{"r", []string{"a", "b"}}, {"a", []string{"c"}}, {"b", []string{"c", "d"}}, {"c", []string{"e"}}, {"e", nil}} {
		kids, ok := indexGraph(tc.self, sets).treeChildren("r")
		if !ok || !slices.Equal(kids, tc.kids) {
			t.Errorf("%s: children %v, want %v", tc.self, kids, tc.kids)
		}
	}
	if _, ok := indexGraph("a", sets).treeChildren("unknown"); ok {
		t.Error("unknown root accepted")
	}
	// The same graph built twice has the same fingerprint; another does not.
	before := indexGraph("a", sets).sig
	if indexGraph("a", sets).sig != before {
		t.Error("fingerprint not stable")
	}
	delete(sets["e"], "c")
	if indexGraph("a", sets).sig == before {
		t.Error("fingerprint ignores a removed edge")
	}
}

func TestLeavesChanged(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		was, now int
		want     bool
	}{{0, 0, false}, {0, 1, true}, {5, 6, true}, {50, 55, false}, {50, 56, true}, {50, 44, true}} {
		if got := leavesChanged(c.was, c.now); got != c.want {
			t.Errorf("leavesChanged(%d, %d) = %v", c.was, c.now, got)
		}
	}
}

// FuzzAdvert: any frame payload either fails to decode or is applied (or
// refused) by the advert store without panicking, and a stored table is
// never over the limits.
func FuzzAdvert(f *testing.F) {
	t1 := buildTable([]uint32{1, 2, 3}, 10)
	for _, m := range []*message{
		advertOf("127.0.0.1:1", 5, 0, t1, nil, "127.0.0.1:2"),
		advertOf("127.0.0.1:1", 6, 5, buildTable([]uint32{4}, 10), t1),
		{Type: typeAdvert, Origin: "127.0.0.1:1", Seq: 7, Bits: 30},
	} {
		b, _ := encodeFrame(m)
		f.Add(b[4:])
	}
	f.Add([]byte(`{"type":"advert","origin":"127.0.0.1:1","seq":9,"bits":10,"table":"/////w=="}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		m, err := decodeMessage(payload)
		if err != nil || m.Type != typeAdvert {
			return
		}
		a := newAdvertStore()
		base := advertOf(m.Origin, 5, 0, t1, nil)
		if m.Seq > 5 {
			a.apply(base, time.Now())
		}
		a.apply(m, time.Now())
		for _, st := range a.m {
			if st.table != nil && (st.table.bits > MaxTableBits || st.table.checkDensity() != nil) {
				t.Fatalf("stored a table over the limits: 2^%d bits", st.table.bits)
			}
		}
	})
}
