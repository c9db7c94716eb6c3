package overlay

import (
	"hash/fnv"
	"slices"
)

// bgraph is the loose supernode graph (an edge where either end lists the
// other; our own edges are our live links) indexed for broadcast trees:
// names sorted, so that "lowest address" is "lowest index".
type bgraph struct {
	names []string
	idx   map[string]int32
	adj   [][]int32 // ascending
	self  int32
	sig   uint64 // fingerprint of names and edges: trees change only with it
}

// looseGraph builds the broadcast graph from our links and the adverts.
// An edge one side lists is left out when the other side's advert, heard
// later, does not list it: that side dropped the link since (or never had
// it). Without this, a dead supernode's last advert keeps its links in the
// graph until it expires (advertExpire): the trees then run through the
// dead, and every supernode below one in both trees misses the adverts of
// that root, so after a mass failure a quarter of all views stayed stale
// and queries were planned on tables that no longer described the
// supernodes holding the moved leaves' entries. A link still on its way
// (listed in the newer advert only) is kept.
func looseGraph(self string, nbs []string, origins map[string]*originState) *bgraph {
	sets := map[string]map[string]bool{self: {}}
	add := func(a, b string) {
		if sets[a] == nil {
			sets[a] = map[string]bool{}
		}
		sets[a][b] = true
	}
	for _, n := range nbs {
		add(self, n)
		add(n, self)
	}
	for o, st := range origins {
		for _, l := range st.links {
			if l == self || o == self || dropped(origins, o, st, l) {
				continue
			}
			add(o, l)
			add(l, o)
		}
	}
	return indexGraph(self, sets)
}

// dropped reports whether l's advert, heard after st (o's), leaves out the
// link to o that st lists.
func dropped(origins map[string]*originState, o string, st *originState, l string) bool {
	other := origins[l]
	return other != nil && other.heard.After(st.heard) && !slices.Contains(other.links, o)
}

// indexGraph turns adjacency sets into a bgraph.
func indexGraph(self string, sets map[string]map[string]bool) *bgraph {
	g := &bgraph{idx: make(map[string]int32, len(sets))}
	for n := range sets {
		g.names = append(g.names, n)
	}
	slices.Sort(g.names)
	for i, n := range g.names {
		g.idx[n] = int32(i)
	}
	h := fnv.New64a()
	g.adj = make([][]int32, len(g.names))
	for i, n := range g.names {
		h.Write([]byte(n))
		for m := range sets[n] {
			g.adj[i] = append(g.adj[i], g.idx[m])
		}
		slices.Sort(g.adj[i])
		for _, j := range g.adj[i] {
			h.Write([]byte{byte(j), byte(j >> 8), byte(j >> 16), 0xff})
		}
	}
	g.self = g.idx[self]
	g.sig = h.Sum64()
	return g
}

// treeChildren returns our children in the two broadcast trees rooted at
// root: the breadth-first trees in which every node's parent is its
// lowest-addressed (first tree) or highest-addressed (second tree)
// neighbour one step closer to root. Every supernode with the same view
// computes the same trees, so an advert sent down both reaches each
// supernode at most twice, and one whose parent in a tree has just died
// usually still gets it through the other. ok is false when root is not in
// the view or cannot reach us.
func (g *bgraph) treeChildren(root string) (kids []string, ok bool) {
	r, known := g.idx[root]
	if !known {
		return nil, false
	}
	dist := make([]int32, len(g.names))
	for i := range dist {
		dist[i] = -1
	}
	dist[r] = 0
	queue := []int32{r}
	for i := 0; i < len(queue); i++ {
		u := queue[i]
		for _, w := range g.adj[u] {
			if dist[w] < 0 {
				dist[w] = dist[u] + 1
				queue = append(queue, w)
			}
		}
	}
	if dist[g.self] < 0 {
		return nil, false
	}
	for _, c := range g.adj[g.self] {
		if dist[c] == dist[g.self]+1 && g.isParent(c, dist) {
			kids = append(kids, g.names[c])
		}
	}
	return kids, true
}

// isParent reports whether we are c's lowest or highest neighbour one
// step closer to the root.
func (g *bgraph) isParent(c int32, dist []int32) bool {
	low, high := int32(-1), int32(-1)
	for _, u := range g.adj[c] {
		if dist[u] == dist[c]-1 {
			if low < 0 {
				low = u
			}
			high = u
		}
	}
	return low == g.self || high == g.self
}
