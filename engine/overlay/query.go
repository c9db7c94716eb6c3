package overlay

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// queryIn is a query as a supernode processes it.
type queryIn struct {
	id     uuid.UUID
	words  string
	keys   []uint32   // keyword-table keys of the words (computed by the origin)
	hops   int        // supernode hops it may still travel from here
	route  []routeHop // our part of its delivery tree (empty at the origin)
	origin bool       // taken from a leaf: we plan its delivery tree
}

// process handles a query the first time its UUID is seen: the origin
// plans its delivery tree, a relay passes on the subtrees it was given;
// then, if our own entries can match, we answer from the index.
func (s *Supernode) process(ctx context.Context, q queryIn, from origin) {
	if !s.routes.add(q.id, from, time.Now()) {
		s.stats.duplicates.Add(1)
		if q.origin {
			// A leaf sent us a query we already had through another
			// supernode: we answered it there, which the leaf hears.
			tell(from, q.id, answer{Asked: []string{s.cfg.Addr}})
		}
		return
	}
	s.stats.received.Add(1)
	defer s.tellAnswered(from, q.id)
	if q.origin {
		keys, err := s.idx.queryKeys(ctx, q.words)
		if err != nil {
			s.log.Debug("overlay: query keys", "err", err)
			s.tellPlan(from, q.id, nil)
			return
		}
		q.keys = keys
		s.tellPlan(from, q.id, s.planAndSend(q))
	} else if len(q.route) > 0 {
		s.sendTree(q, treeOf(q.route), true)
	}
	if !q.origin && !s.idx.kw.hasAll(q.keys) {
		return // a relay for this query: nothing of ours can match
	}
	hits, err := s.idx.search(ctx, q.words, maxHitsPerAnswer)
	if err != nil {
		s.log.Debug("overlay: search index", "err", err)
		return
	}
	s.stats.answered.Add(1)
	if len(hits) > 0 {
		s.stats.matched.Add(1)
		from.deliver(q.id, hits)
	}
}

// planAndSend routes a query we are the origin of to every supernode
// within MaxHops whose keyword table can match it, and returns the
// delivery tree.
func (s *Supernode) planAndSend(q queryIn) map[string]string {
	g := s.graph()
	noMatch := s.adv.cannotMatch(q.keys)
	match := func(n string) bool { return !noMatch[n] }
	tree, skipped := planTree(s.cfg.Addr, g, q.hops, match)
	s.stats.filtered.Add(uint64(skipped))
	for n := range tree {
		if !match(n) {
			s.stats.relays.Add(1)
		}
	}
	s.sendTree(q, tree, true)
	return tree
}

// sendTree sends q to each of our children in tree with its subtree. The
// subtrees of children we are no longer linked to are re-planned once.
func (s *Supernode) sendTree(q queryIn, tree map[string]string, repair bool) {
	kids := childrenOf(tree)
	links := s.neighbourLinks()
	var lost []string
	for _, c := range kids[s.cfg.Addr] {
		ln := links[c]
		if ln == nil {
			lost = append(lost, c)
			continue
		}
		m := &message{Type: typeQuery, ID: q.id.String(), Words: q.words, QKeys: q.keys,
			Hops: max(q.hops-1, 0), Route: subtree(kids, c)}
		// Counted before the hand-off, so the count is there by the time
		// any answer to it can come back; taken back if the queue is full.
		s.stats.forwarded.Add(1)
		if !ln.trySend(m) {
			s.stats.forwarded.Add(^uint64(0))
			s.stats.targetsLost.Add(uint64(1 + len(m.Route)))
		}
	}
	switch {
	case repair && len(lost) > 0:
		s.repairTree(q, kids, lost)
	case len(lost) > 0:
		for _, c := range lost {
			s.stats.targetsLost.Add(uint64(1 + len(subtree(kids, c))))
		}
	}
}

// repairTree re-plans the subtrees of lost children from our own view.
func (s *Supernode) repairTree(q queryIn, kids map[string][]string, lost []string) {
	want := make(map[string]bool)
	for _, c := range lost {
		want[c] = true
		for _, h := range subtree(kids, c) {
			want[h[0]] = true
		}
	}
	tree, _ := planTree(s.cfg.Addr, s.graph(), q.hops, func(n string) bool { return want[n] })
	s.stats.repaired.Add(1)
	for n := range want {
		if _, ok := tree[n]; !ok {
			s.stats.targetsLost.Add(1)
		}
	}
	s.sendTree(q, tree, false)
}

// neighbourLinks maps each linked supernode to its link.
func (s *Supernode) neighbourLinks() map[string]*link {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]*link, len(s.neighbours))
	for a, n := range s.neighbours {
		out[a] = n.ln
	}
	return out
}
