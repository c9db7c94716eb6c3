package overlay

import (
	"slices"
	"time"
)

// Routing. The supernode that takes a query from a leaf (its origin) looks
// at the graph its adverts describe: an edge joins two supernodes when each
// lists the other (its own edges are its live links). It finds, breadth
// first and within the hop limit, every supernode whose keyword table can
// match all query keys, and builds a delivery tree of shortest paths to
// them, reusing relays already on the tree. Each first hop gets the query
// with its part of the tree ("route": node, parent pairs); every node
// passes each child its subtree. A relay whose child link has gone re-plans
// that subtree from its own view. Supernodes that cannot match get nothing.

// routeGraph is the adjacency of the supernode graph as seen from here.
type routeGraph map[string][]string

// graphMaxStale bounds how often the graph is rebuilt while adverts keep
// changing it (as when many supernodes link up at once).
const graphMaxStale = 500 * time.Millisecond

// graph returns the current adjacency. It is rebuilt at once when our
// links changed, and at most every graphMaxStale when only adverts did.
func (s *Supernode) graph() routeGraph {
	s.mu.Lock()
	nbVer := s.nbVersion
	s.mu.Unlock()
	a := s.adv
	a.mu.Lock()
	advVer := a.version
	a.mu.Unlock()
	s.routeMu.Lock()
	defer s.routeMu.Unlock()
	// Our own links count at once; changes heard in adverts wait up to
	// graphMaxStale.
	fresh := s.routeNbVer == nbVer && (s.routeAdvVer == advVer || time.Since(s.routeBuilt) < graphMaxStale)
	if s.routeCache != nil && fresh {
		return s.routeCache
	}
	nbs := s.Neighbours()
	a.mu.Lock()
	s.routeCache = buildGraph(s.cfg.Addr, nbs, a.m)
	loose := looseGraph(s.cfg.Addr, nbs, a.m)
	a.mu.Unlock()
	s.routeAdvVer, s.routeNbVer, s.routeBuilt = advVer, nbVer, time.Now()
	if s.looseCache == nil || loose.sig != s.looseCache.sig {
		s.looseCache = loose
		s.treeKids = make(map[string][]string)
	}
	return s.routeCache
}

// broadcastKids returns our children in the broadcast trees of root,
// cached until the graph is rebuilt. The trees are built on the loose
// graph (an edge where either side lists it): while link changes are still
// on their way the strict graph may cut the root off, and a node that
// cannot place itself in the trees has to flood.
func (s *Supernode) broadcastKids(root string) ([]string, bool) {
	s.graph()
	s.routeMu.Lock()
	g := s.looseCache
	kids, ok := s.treeKids[root]
	s.routeMu.Unlock()
	if ok {
		return kids, kids != nil
	}
	kids, ok = g.treeChildren(root)
	if ok && kids == nil {
		kids = []string{}
	}
	s.routeMu.Lock()
	if s.treeKids != nil {
		s.treeKids[root] = kids
	}
	s.routeMu.Unlock()
	return kids, ok
}

// buildGraph joins origins that list each other; self's edges are nbs.
func buildGraph(self string, nbs []string, origins map[string]*originState) routeGraph {
	sets := make(map[string]map[string]bool, len(origins)+1)
	for o, st := range origins {
		set := make(map[string]bool, len(st.links))
		for _, l := range st.links {
			set[l] = true
		}
		sets[o] = set
	}
	mine := make(map[string]bool, len(nbs))
	for _, n := range nbs {
		mine[n] = true
	}
	sets[self] = mine
	g := routeGraph{self: nbs}
	for o, st := range origins {
		for _, l := range st.links {
			if sets[l][o] {
				g[o] = append(g[o], l)
			}
		}
	}
	return g
}

// planTree returns a delivery tree (node → parent) from self to every node
// within hops for which isTarget holds, and how many nodes within reach
// were left out.
func planTree(self string, g routeGraph, hops int, isTarget func(string) bool) (tree map[string]string, skipped int) {
	preds, order := bfs(self, g, hops)
	tree = make(map[string]string)
	for _, v := range order[1:] {
		if !isTarget(v) {
			skipped++
			continue
		}
		for v != self {
			if _, ok := tree[v]; ok {
				break
			}
			p := bestParent(preds[v], tree, self, isTarget)
			tree[v] = p
			v = p
		}
	}
	return tree, skipped
}

// bfs walks g from self up to hops edges, recording for each node the
// nodes one step closer that reach it.
func bfs(self string, g routeGraph, hops int) (map[string][]string, []string) {
	dist := map[string]int{self: 0}
	preds := map[string][]string{}
	order := []string{self}
	for i := 0; i < len(order); i++ {
		u := order[i]
		if dist[u] >= hops {
			continue
		}
		for _, w := range g[u] {
			d, seen := dist[w]
			if !seen {
				dist[w] = dist[u] + 1
				order = append(order, w)
				d = dist[w]
			}
			if d == dist[u]+1 {
				preds[w] = append(preds[w], u)
			}
		}
	}
	return preds, order
}

// bestParent prefers a node already on the tree (or self), then a target,
// then the lowest address, so that relays are shared and useful.
func bestParent(cands []string, tree map[string]string, self string, isTarget func(string) bool) string {
	best, score := "", -1
	for _, c := range cands {
		sc := 0
		if _, on := tree[c]; on || c == self {
			sc = 2
		} else if isTarget(c) {
			sc = 1
		}
		if sc > score || sc == score && c < best {
			best, score = c, sc
		}
	}
	return best
}

// treeOf turns received route pairs into a tree rooted at self.
func treeOf(route []routeHop) map[string]string {
	tree := make(map[string]string, len(route))
	for _, h := range route {
		tree[h[0]] = h[1]
	}
	return tree
}

// childrenOf inverts a tree: parent → children, sorted.
func childrenOf(tree map[string]string) map[string][]string {
	kids := make(map[string][]string)
	for n, p := range tree {
		kids[p] = append(kids[p], n)
	}
	for _, k := range kids {
		slices.Sort(k)
	}
	return kids
}

// subtree lists the pairs below root (root excluded), guarding against
// cycles in routes from the wire.
func subtree(kids map[string][]string, root string) []routeHop {
	var out []routeHop
	seen := map[string]bool{root: true}
	stack := []string{root}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range kids[p] {
			if seen[c] {
				continue
			}
			seen[c] = true
			out = append(out, routeHop{c, p})
			stack = append(stack, c)
		}
	}
	return out
}
