package overlay

import (
	"context"
	"slices"
	"testing"
	"time"
)

// lineConfig links supernodes in a line: each finds its two neighbours.
func lineConfig(maxHops int) func(i int, addrs []string) SupernodeConfig {
	return func(i int, addrs []string) SupernodeConfig {
		var find StaticFinder
		if i > 0 {
			find = append(find, addrs[i-1])
		}
		if i < len(addrs)-1 {
			find = append(find, addrs[i+1])
		}
		find = append(find, addrs[i]) // our own address is skipped
		// One link each is enough, so nobody dials the far end of the
		// line when adverts name it.
		return SupernodeConfig{Finder: find, MaxHops: maxHops, MinNeighbours: 1}
	}
}

// meshConfig links every supernode to every other.
func meshConfig(i int, addrs []string) SupernodeConfig {
	return SupernodeConfig{Finder: StaticFinder(addrs)}
}

func waitNeighbours(t *testing.T, nodes []*testNode, want ...int) {
	t.Helper()
	waitFor(t, 10*time.Second, "supernode links", func() bool {
		for i, n := range nodes {
			if len(n.sn.Neighbours()) != want[i] {
				return false
			}
		}
		return true
	})
}

func TestSearchTwoHops(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3, lineConfig(0))
	a, b, c := nodes[0], nodes[1], nodes[2]
	waitNeighbours(t, nodes, 1, 2, 1)
	if got := b.sn.Neighbours(); !slices.Equal(got, sortedPair(a.addr, c.addr)) {
		t.Fatalf("B's neighbours %v", got)
	}
	sharer := startLeaf(t, "127.0.0.1:40003", 1, c.addr)
	sharer.SetShares([]Entry{{InfoHash: ih(7), Name: "Big Buck Bunny 1080p", Size: 1 << 30, Files: []string{"bbb.mkv"}}})
	waitFor(t, 5*time.Second, "registration on C", func() bool { return indexed(c.sn, "bunny") })
	searcher := startLeaf(t, "127.0.0.1:40001", 1, a.addr)
	waitFor(t, 5*time.Second, "searcher linked", func() bool { return len(searcher.Supernodes()) == 1 })

	hit := searchUntil(t, searcher, "buck bun", ih(7), "127.0.0.1:40003")
	if hit.Name != "Big Buck Bunny 1080p" || hit.Size != 1<<30 || !slices.Equal(hit.Files, []string{"bbb.mkv"}) {
		t.Fatalf("hit %+v", hit)
	}
	if !slices.Equal(hit.Sources, []string{"127.0.0.1:40003"}) {
		t.Fatalf("sources %v", hit.Sources)
	}
	waitFor(t, 5*time.Second, "B's relay counted", func() bool {
		st := b.sn.Stats()
		return st.HitsRouted > 0 && st.QueriesForwarded > 0
	})
	if got := c.sn.Leaves(); got != 1 {
		t.Fatalf("C has %d leaves", got)
	}
}

func TestSearchHopLimit(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3, lineConfig(1))
	a, b, c := nodes[0], nodes[1], nodes[2]
	waitNeighbours(t, nodes, 1, 2, 1)
	onC := startLeaf(t, "127.0.0.1:40013", 1, c.addr)
	onC.SetShares([]Entry{{InfoHash: ih(8), Name: "far away file"}})
	onB := startLeaf(t, "127.0.0.1:40012", 1, b.addr)
	onB.SetShares([]Entry{{InfoHash: ih(9), Name: "far nearer file"}})
	waitFor(t, 5*time.Second, "registrations", func() bool { return indexed(c.sn, "away") && indexed(b.sn, "nearer") })
	searcher := startLeaf(t, "127.0.0.1:40011", 1, a.addr)
	waitFor(t, 5*time.Second, "searcher linked", func() bool { return len(searcher.Supernodes()) == 1 })

	// One hop reaches B (the positive control) but not C.
	searchUntil(t, searcher, "far file", ih(9), "127.0.0.1:40012")
	hits := collectHits(t, searcher, "far file", 1500*time.Millisecond)
	if _, ok := hits[ih(8)]; ok {
		t.Fatalf("MaxHops=1 reached C: %+v", hits)
	}
	if _, ok := hits[ih(9)]; !ok {
		t.Fatalf("B's file missing: %+v", hits)
	}
	if st := c.sn.Stats(); st.QueriesReceived != 0 {
		t.Fatalf("C received %d queries", st.QueriesReceived)
	}
}

// TestDuplicateAnsweredOnce: the same query UUID arriving twice at a
// supernode is answered once.
func TestDuplicateAnsweredOnce(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 1, meshConfig)
	sn := nodes[0].sn
	sharer := startLeaf(t, "127.0.0.1:40023", 1, nodes[0].addr)
	sharer.SetShares([]Entry{{InfoHash: ih(10), Name: "twice asked song"}})
	waitFor(t, 5*time.Second, "registration", func() bool { return indexed(sn, "twice") })
	p := dialLeaf(t, nodes[0].addr)
	q := query("twice asked")
	p.send(t, q)
	p.send(t, q)
	for {
		m, err := p.read()
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == typeHits {
			break
		}
	}
	waitFor(t, 5*time.Second, "duplicate counted", func() bool { return sn.Stats().DuplicatesDropped == 1 })
	if st := sn.Stats(); st.QueriesReceived != 1 || st.QueriesAnswered != 1 {
		t.Fatalf("%+v, want the query taken and answered once", st)
	}
}

func TestLocalLeaf(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 2, meshConfig)
	waitNeighbours(t, nodes, 1, 1)
	local := runLeaf(t, LeafConfig{PeerAddr: "127.0.0.1:40031", Local: nodes[0].sn})
	local.SetShares([]Entry{{InfoHash: ih(11), Name: "local hero"}})
	remote := startLeaf(t, "127.0.0.1:40032", 1, nodes[1].addr)
	remote.SetShares([]Entry{{InfoHash: ih(12), Name: "remote hero"}})
	waitFor(t, 5*time.Second, "registrations", func() bool {
		return indexed(nodes[0].sn, "local") && indexed(nodes[1].sn, "remote")
	})
	if got := local.Supernodes(); !slices.Equal(got, []string{nodes[0].addr}) {
		t.Fatalf("local leaf supernodes %v", got)
	}
	if nodes[0].sn.Leaves() != 0 {
		t.Fatal("the local leaf must not count as a remote leaf")
	}
	searchUntil(t, remote, "hero", ih(11), "127.0.0.1:40031")
	searchUntil(t, local, "hero", ih(12), "127.0.0.1:40032")
	hits := collectHits(t, local, "hero", time.Second)
	if len(hits) != 2 {
		t.Fatalf("local search: %+v", hits)
	}
}

func TestSharesDiffAndLeave(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 1, meshConfig)
	sn := nodes[0].sn
	l := NewLeaf(LeafConfig{PeerAddr: "127.0.0.1:40041", Dial: loopback.Dial, Finder: StaticFinder{nodes[0].addr}})
	l.SetShares([]Entry{{InfoHash: ih(13), Name: "first version"}, {InfoHash: ih(14), Name: "stays"}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	stopped := false
	defer func() {
		if !stopped {
			cancel()
			<-done
		}
	}()
	waitFor(t, 5*time.Second, "full list on connect", func() bool { return indexed(sn, "first") && indexed(sn, "stays") })

	l.SetShares([]Entry{{InfoHash: ih(14), Name: "stays"}, {InfoHash: ih(15), Name: "second"}})
	waitFor(t, 5*time.Second, "changes applied", func() bool {
		return !indexed(sn, "first") && indexed(sn, "second") && indexed(sn, "stays")
	})
	cancel()
	stopped = true
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "leaf gone", func() bool { return sn.Leaves() == 0 })
	if indexed(sn, "stays") || indexed(sn, "second") {
		t.Fatal("entries survive the leaf leaving")
	}
}

func TestSearchErrors(t *testing.T) {
	t.Parallel()
	l := NewLeaf(LeafConfig{PeerAddr: "127.0.0.1:40051", Dial: loopback.Dial, Finder: StaticFinder{}})
	if _, err := l.Search(context.Background(), "x"); err != ErrNoSupernodes {
		t.Fatalf("unlinked search: %v", err)
	}
	if _, err := l.Search(context.Background(), "***"); err == nil {
		t.Fatal("bad query accepted")
	}
	bad := NewLeaf(LeafConfig{PeerAddr: "nope", Dial: loopback.Dial, Finder: StaticFinder{}})
	if err := bad.Run(context.Background()); err == nil {
		t.Fatal("bad PeerAddr accepted")
	}
	if _, err := NewSupernode(SupernodeConfig{Addr: "127.0.0.1:1", Finder: StaticFinder{}}); err == nil {
		t.Fatal("Finder without Dial accepted")
	}
}

func sortedPair(a, b string) []string {
	s := []string{a, b}
	slices.Sort(s)
	return s
}
