package overlay

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"
)

// TestSearchDoneWhenAllAnswered: A is linked to B and C; only B's leaf
// shares "apple". A search from A's leaf goes to A and B (C's table cannot
// match), both answer, and the search is done at once: its channel closes
// long before the answer timeout, with every asked supernode counted.
func TestSearchDoneWhenAllAnswered(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3, func(i int, addrs []string) SupernodeConfig {
		if i == 0 {
			return SupernodeConfig{Finder: StaticFinder(addrs[1:])}
		}
		return SupernodeConfig{MinNeighbours: 1}
	})
	a, b := nodes[0], nodes[1]
	waitNeighbours(t, nodes, 2, 1, 1)
	onB := startLeaf(t, "127.0.0.1:40301", 1, b.addr)
	onB.SetShares([]Entry{{InfoHash: ih(1), Name: "apple pie recipes"}})
	searcher := runLeaf(t, LeafConfig{PeerAddr: "127.0.0.1:40303", Dial: loopback.Dial,
		Finder: StaticFinder([]string{a.addr}), Links: 1, AnswerTimeout: 20 * time.Second})
	waitFor(t, 5*time.Second, "searcher linked", func() bool { return len(searcher.Supernodes()) == 1 })
	searchUntil(t, searcher, "apple", ih(1), "127.0.0.1:40301") // B's table has reached A

	time.Sleep(time.Second / DefaultQueryRate)
	start := time.Now()
	q, err := searcher.Query(t.Context(), "apple")
	if err != nil {
		t.Fatal(err)
	}
	var got []Hit
	for h := range q.Hits() {
		got = append(got, h)
	}
	took := time.Since(start)
	p := q.Progress()
	if len(got) == 0 || got[0].InfoHash != ih(1) {
		t.Fatalf("hits %+v", got)
	}
	if want := (Progress{Asked: 2, Answered: 2, Done: true}); p != want {
		t.Fatalf("progress %+v, want %+v", p, want)
	}
	if took > 5*time.Second {
		t.Fatalf("search took %v with a 20 s answer timeout", took)
	}
	t.Logf("done after %v: %+v", took, p)
}

// fakeSupernode accepts one leaf link on a real socket and answers every
// query with the frames script returns.
func fakeSupernode(t *testing.T, script func(addr, id string) []*message) string {
	t.Helper()
	ln, err := loopback.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	addr := ln.Addr().String()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		if _, err := io.ReadFull(r, make([]byte, len(Magic))); err != nil {
			return
		}
		if _, err := readFrame(r); err != nil {
			return
		}
		if writeFrame(c, &message{Type: typeWelcome, Addr: addr}) != nil {
			return
		}
		serveScript(c, r, addr, script)
	}()
	return addr
}

func serveScript(c net.Conn, r *bufio.Reader, addr string, script func(addr, id string) []*message) {
	for {
		m, err := readFrame(r)
		if err != nil {
			return
		}
		if m.Type != typeQuery {
			continue
		}
		for _, out := range script(addr, m.ID) {
			if writeFrame(c, out) != nil {
				return
			}
		}
	}
}

// TestSearchAnswerTimeout: the supernode says the query went to itself and
// to a second supernode that never answers. The search ends at the leaf's
// answer timeout, counted as timed out, with the hit that came.
func TestSearchAnswerTimeout(t *testing.T) {
	t.Parallel()
	const silent = "127.0.0.1:9"
	sn := fakeSupernode(t, func(addr, id string) []*message {
		return []*message{
			{Type: typeHits, ID: id, Asked: []string{addr, silent}},
			{Type: typeHits, ID: id, Hits: []wireHit{{InfoHash: hash20(ih(7)), Name: "seven", Sources: []string{"127.0.0.1:7"}}}},
			{Type: typeHits, ID: id, Answered: addr},
		}
	})
	const timeout = 700 * time.Millisecond
	l := runLeaf(t, LeafConfig{PeerAddr: "127.0.0.1:40304", Dial: loopback.Dial,
		Finder: StaticFinder([]string{sn}), Links: 1, AnswerTimeout: timeout})
	waitFor(t, 5*time.Second, "leaf linked", func() bool { return len(l.Supernodes()) == 1 })
	start := time.Now()
	q, err := l.Query(t.Context(), "seven")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for range q.Hits() {
		n++
	}
	took := time.Since(start)
	if want := (Progress{Asked: 2, Answered: 1, Done: true, TimedOut: true}); q.Progress() != want || n != 1 {
		t.Fatalf("progress %+v with %d hits, want %+v with 1", q.Progress(), n, want)
	}
	if took < timeout || took > timeout+3*time.Second {
		t.Fatalf("took %v, answer timeout %v", took, timeout)
	}
}

// TestSearchRefused: a supernode that refuses the query (rate limit) ends
// the search at once, marked refused.
func TestSearchRefused(t *testing.T) {
	t.Parallel()
	sn := fakeSupernode(t, func(_, id string) []*message {
		return []*message{{Type: typeError, ID: id, Code: CodeRateLimited, Text: "too many queries"}}
	})
	l := runLeaf(t, LeafConfig{PeerAddr: "127.0.0.1:40305", Dial: loopback.Dial,
		Finder: StaticFinder([]string{sn}), Links: 1, AnswerTimeout: 20 * time.Second})
	waitFor(t, 5*time.Second, "leaf linked", func() bool { return len(l.Supernodes()) == 1 })
	q, err := l.Query(t.Context(), "anything")
	if err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-q.Hits():
		if ok {
			t.Fatal("a hit from a refusal")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a refused search still runs")
	}
	if p := q.Progress(); !p.Done || !p.Refused || p.TimedOut {
		t.Fatalf("progress %+v", p)
	}
}

// TestAnswerTracker: the search is complete only once every origin told
// its asked list and every asked supernode answered, in any order.
func TestAnswerTracker(t *testing.T) {
	t.Parallel()
	ans := func(from string, asked ...string) searchEvent {
		return searchEvent{ans: &answer{From: from, Asked: asked}}
	}
	cases := []struct {
		name    string
		origins int
		evs     []searchEvent
		want    Progress
	}{
		{"nothing yet", 1, nil, Progress{}},
		{"plan only", 1, []searchEvent{ans("", "a:1", "b:1")}, Progress{Asked: 2}},
		{"all answered", 1, []searchEvent{ans("", "a:1", "b:1"), ans("b:1"), ans("a:1")}, Progress{Asked: 2, Answered: 2, Done: true}},
		{"answers before the plan", 1, []searchEvent{ans("b:1"), ans("a:1"), ans("", "a:1", "b:1")}, Progress{Asked: 2, Answered: 2, Done: true}},
		{"answer from outside the plan", 1, []searchEvent{ans("", "a:1"), ans("z:1")}, Progress{Asked: 1}},
		{"second origin pending", 2, []searchEvent{ans("", "a:1"), ans("a:1")}, Progress{Asked: 1, Answered: 1}},
		{"both origins", 2, []searchEvent{ans("", "a:1"), ans("a:1"), ans("", "b:1"), ans("b:1")}, Progress{Asked: 2, Answered: 2, Done: true}},
		{"refused", 1, []searchEvent{{refused: true}}, Progress{Done: true, Refused: true}},
		{"hits only", 1, []searchEvent{{hits: []Hit{{Name: "x"}}}}, Progress{}},
	}
	for _, c := range cases {
		tr := newAnswerTracker(c.origins)
		for _, ev := range c.evs {
			tr.add(ev)
		}
		if got := tr.progress(false); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	tr := newAnswerTracker(1)
	tr.add(ans("", "a:1", "b:1"))
	tr.add(ans("a:1"))
	if got, want := tr.progress(true), (Progress{Asked: 2, Answered: 1, Done: true, TimedOut: true}); got != want {
		t.Errorf("timed out: %+v, want %+v", got, want)
	}
}
