package overlay

import (
	"maps"
	"slices"
	"testing"
	"time"
)

func TestBuildGraphNeedsBothSides(t *testing.T) {
	t.Parallel()
	origins := map[string]*originState{
		"b": {links: []string{"self", "c", "d"}},
		"c": {links: []string{"b"}},
		"d": {links: nil}, // d forgot b: no edge
		"e": {links: []string{"self"}},
	}
	g := buildGraph("self", []string{"b"}, origins) // e lists us, we do not list e
	want := routeGraph{"self": {"b"}, "b": {"self", "c"}, "c": {"b"}}
	if !maps.EqualFunc(g, want, slices.Equal) {
		t.Fatalf("graph %v, want %v", g, want)
	}
}

func TestPlanTree(t *testing.T) {
	t.Parallel()
	// s - a - c - e      s - b - c
	//      \- d          b - f
	g := routeGraph{
		"s": {"a", "b"}, "a": {"s", "c", "d"}, "b": {"s", "c", "f"},
		"c": {"a", "b", "e"}, "d": {"a"}, "e": {"c"}, "f": {"b"},
	}
	set := func(xs ...string) func(string) bool { return func(n string) bool { return slices.Contains(xs, n) } }
	cases := []struct {
		name    string
		hops    int
		targets []string
		want    map[string]string
		skipped int
	}{
		{"one far target via the lowest relay", 3, []string{"e"}, map[string]string{"e": "c", "c": "a", "a": "s"}, 5},
		{"relays shared", 3, []string{"d", "e"}, map[string]string{"d": "a", "e": "c", "c": "a", "a": "s"}, 4},
		{"a target is the preferred relay", 3, []string{"b", "e"}, map[string]string{"b": "s", "c": "b", "e": "c"}, 4},
		{"hop limit", 2, []string{"e", "f"}, map[string]string{"f": "b", "b": "s"}, 4},
		{"nothing matches", 3, nil, map[string]string{}, 6},
	}
	for _, c := range cases {
		tree, skipped := planTree("s", g, c.hops, set(c.targets...))
		if !maps.Equal(tree, c.want) || skipped != c.skipped {
			t.Errorf("%s: tree %v skipped %d, want %v and %d", c.name, tree, skipped, c.want, c.skipped)
		}
	}
}

func TestSubtreeOfCycle(t *testing.T) {
	t.Parallel()
	// A hostile route: x's parent is y and y's parent is x.
	kids := childrenOf(treeOf([]routeHop{{"a", "s"}, {"x", "y"}, {"y", "x"}, {"b", "a"}}))
	got := subtree(kids, "a")
	if len(got) != 1 || got[0] != (routeHop{"b", "a"}) {
		t.Fatalf("subtree %v", got)
	}
	if got := subtree(kids, "x"); len(got) != 1 {
		t.Fatalf("cycle: %v", got)
	}
}

// TestRoutedNotFlooded: A is linked to B and C. A query for what only B's
// leaf shares goes to B and not to C (counted in Stats), and the other way
// round; a query nobody can match goes nowhere.
func TestRoutedNotFlooded(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3, func(i int, addrs []string) SupernodeConfig {
		if i == 0 {
			return SupernodeConfig{Finder: StaticFinder(addrs[1:])}
		}
		return SupernodeConfig{MinNeighbours: 1} // B and C wait for A's dial
	})
	a, b, c := nodes[0], nodes[1], nodes[2]
	waitNeighbours(t, nodes, 2, 1, 1)
	onB := startLeaf(t, "127.0.0.1:40201", 1, b.addr)
	onB.SetShares([]Entry{{InfoHash: ih(1), Name: "apple pie recipes"}})
	onC := startLeaf(t, "127.0.0.1:40202", 1, c.addr)
	onC.SetShares([]Entry{{InfoHash: ih(2), Name: "banana split"}})
	searcher := startLeaf(t, "127.0.0.1:40203", 1, a.addr)
	waitFor(t, 5*time.Second, "searcher linked", func() bool { return len(searcher.Supernodes()) == 1 })
	searchUntil(t, searcher, "apple", ih(1), "127.0.0.1:40201")
	searchUntil(t, searcher, "banana", ih(2), "127.0.0.1:40202")

	type counts struct{ fwd, filtered, onB, onC uint64 }
	read := func() counts {
		sa := a.sn.Stats()
		return counts{sa.QueriesForwarded, sa.QueriesFiltered, b.sn.Stats().QueriesReceived, c.sn.Stats().QueriesReceived}
	}
	for _, tc := range []struct {
		words string
		want  counts // change over one search
	}{
		{"apple pie", counts{fwd: 1, filtered: 1, onB: 1}},
		{"ban", counts{fwd: 1, filtered: 1, onC: 1}},
		{"cherry", counts{filtered: 2}},
		{"apple banana", counts{filtered: 2}}, // every word must match one table
	} {
		time.Sleep(time.Second / DefaultQueryRate) // searches end early now: stay inside the rate limit
		before := read()
		collectHits(t, searcher, tc.words, 500*time.Millisecond)
		after := read()
		got := counts{after.fwd - before.fwd, after.filtered - before.filtered, after.onB - before.onB, after.onC - before.onC}
		if got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.words, got, tc.want)
		}
	}
}

// TestRelayDoesNotAnswer: on the line A-B-C a query for C's file passes
// through B, which forwards it but does not search its own index.
func TestRelayDoesNotAnswer(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3, lineConfig(0))
	a, b, c := nodes[0], nodes[1], nodes[2]
	waitNeighbours(t, nodes, 1, 2, 1)
	onC := startLeaf(t, "127.0.0.1:40211", 1, c.addr)
	onC.SetShares([]Entry{{InfoHash: ih(3), Name: "far relay test"}})
	searcher := startLeaf(t, "127.0.0.1:40212", 1, a.addr)
	waitFor(t, 5*time.Second, "searcher linked", func() bool { return len(searcher.Supernodes()) == 1 })
	searchUntil(t, searcher, "relay", ih(3), "127.0.0.1:40211")
	sb := b.sn.Stats()
	if sb.QueriesForwarded == 0 || sb.QueriesAnswered != 0 || sb.HitsRouted == 0 {
		t.Fatalf("B: %+v, want forwarded and routed hits without answering", sb)
	}
}

// TestLooseGraphDropsDeadLinks: the broadcast graph keeps an edge that
// only one side lists while the other side's advert is older (a link on
// its way), and drops it once the other side's newer advert leaves it
// out (the link is gone; the lister may be dead, its last advert kept
// until it expires). Without the second rule a dead supernode stayed a
// parent in the broadcast trees for minutes, and after a fifth of the
// supernodes died together a quarter of all advert views stayed stale.
func TestLooseGraphDropsDeadLinks(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	origins := map[string]*originState{
		"dead": {links: []string{"a", "b"}, heard: t0},                     // its last advert, before it died
		"a":    {links: []string{"b"}, heard: t0.Add(time.Second)},         // heard later: dropped dead
		"b":    {links: []string{"a", "dead"}, heard: t0.Add(time.Second)}, // still lists it
		"new":  {links: []string{"a"}, heard: t0.Add(2 * time.Second)},     // a's advert listing it is on its way
	}
	g := looseGraph("self", []string{"a"}, origins)
	edge := func(x, y string) bool {
		i, ok1 := g.idx[x]
		j, ok2 := g.idx[y]
		return ok1 && ok2 && slices.Contains(g.adj[i], j)
	}
	for _, c := range []struct {
		x, y string
		want bool
	}{{"dead", "a", false}, {"dead", "b", true}, {"a", "b", true}, {"new", "a", true}, {"self", "a", true}} {
		if edge(c.x, c.y) != c.want || edge(c.y, c.x) != c.want {
			t.Errorf("edge %s-%s: %v, want %v", c.x, c.y, edge(c.x, c.y), c.want)
		}
	}
}
