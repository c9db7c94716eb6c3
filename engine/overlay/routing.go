package overlay

import (
	"slices"
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

// graph returns the current adjacency, cached until adverts or links
// change.
func (s *Supernode) graph() routeGraph {
	s.mu.Lock()
	nbVer := s.nbVersion
	nbs := make([]string, 0, len(s.neighbours))
	for a := range s.neighbours {
		nbs = append(nbs, a)
	}
	s.mu.Unlock()
	slices.Sort(nbs)

	a := s.adv
	a.mu.Lock()
	defer a.mu.Unlock()
	s.routeMu.Lock()
	defer s.routeMu.Unlock()
	if s.routeCache == nil || s.routeAdvVer != a.version || s.routeNbVer != nbVer {
		s.routeCache = buildGraph(s.cfg.Addr, nbs, a.m)
		s.routeAdvVer, s.routeNbVer = a.version, nbVer
	}
	return s.routeCache
}

// buildGraph joins origins that list each other; self's edges are nbs.
func buildGraph(self string, nbs []string, origins map[string]*originState) routeGraph {
	g := routeGraph{self: nbs}
	for o, st := range origins {
		for _, l := range st.links {
			if l == self {
				if slices.Contains(nbs, o) {
					g[o] = append(g[o], l)
				}
				continue
			}
			if other := origins[l]; other != nil && slices.Contains(other.links, o) {
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

// treeChildren returns our children in the broadcast tree rooted at root:
// the breadth-first tree of g in which every node's parent is its
// lowest-addressed neighbour one step closer to root. Every supernode with
// the same view computes the same tree, so an advert sent down it reaches
// each once. ok is false when root or we are not in the view.
func treeChildren(g routeGraph, root, self string) (kids []string, ok bool) {
	dist := map[string]int{root: 0}
	order := []string{root}
	for i := 0; i < len(order); i++ {
		u := order[i]
		for _, w := range g[u] {
			if _, seen := dist[w]; !seen {
				dist[w] = dist[u] + 1
				order = append(order, w)
			}
		}
	}
	d, reached := dist[self]
	if !reached {
		return nil, false
	}
	for _, c := range g[self] {
		if dc, ok := dist[c]; ok && dc == d+1 && treeParent(g, c, dist) == self {
			kids = append(kids, c)
		}
	}
	return kids, true
}

// treeParent is v's lowest-addressed neighbour one step closer to the root.
// Edges are symmetric in g except at self; both ends are checked.
func treeParent(g routeGraph, v string, dist map[string]int) string {
	best := ""
	for _, u := range g[v] {
		if du, ok := dist[u]; ok && du == dist[v]-1 && (best == "" || u < best) {
			best = u
		}
	}
	return best
}
