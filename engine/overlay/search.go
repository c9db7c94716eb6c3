package overlay

import (
	"context"
	"slices"

	"github.com/google/uuid"
)

// Bounds on one search's state.
const (
	searchQueueLen   = 1024 // hit batches waiting for a slow Search reader; more are dropped
	maxMergedSources = 200  // sources kept per infohash across all supernodes
)

// search is one running Leaf.Search; it is also the origin of a local query.
type search struct {
	in    chan []Hit
	words string
	via   string // the supernode link it was sent on; guarded by Leaf.mu
}

func (s *search) deliver(_ uuid.UUID, hits []Hit) {
	select {
	case s.in <- hits:
	default:
	}
}

// Search sends words to the primary supernode (or the local one) and
// streams hits as they arrive; if that link dies meanwhile, the query goes
// again, under the same UUID, to the supernode that takes over. The channel is closed when
// ctx ends (or Run returns). Hits for the same infohash are merged: each Hit
// carries the union of the sources seen so far, and a later Hit for an
// infohash supersedes the earlier one; a Hit is sent again only when its
// sources or names grew. Words are matched as prefixes, all required, ignoring case
// and accents; ErrBadQuery reports empty, over-long or too many words.
func (l *Leaf) Search(ctx context.Context, words string) (<-chan Hit, error) {
	if _, err := ftsQuery(words); err != nil {
		return nil, err
	}
	id := uuid.New()
	srch := &search{in: make(chan []Hit, searchQueueLen), words: words}
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return nil, ErrLeafStopped
	}
	target := l.primaryLocked()
	local := l.cfg.Local != nil && l.cfg.Local.Active()
	if !local && target == nil {
		l.mu.Unlock()
		return nil, ErrNoSupernodes
	}
	if target != nil {
		srch.via = target.addr
	}
	l.searches[id] = srch
	l.wg.Add(1)
	l.mu.Unlock()

	out := make(chan Hit, 16)
	go l.collect(ctx, id, srch, out)
	if local {
		if err := l.cfg.Local.queryLocal(ctx, id, words, srch); err != nil {
			l.log.Debug("overlay: local query", "err", err)
		}
	}
	if target != nil {
		target.ln.trySend(&message{Type: typeQuery, ID: id.String(), Words: words})
	}
	return out, nil
}

// deliverHits hands a hits frame to the search it answers, if still running.
func (l *Leaf) deliverHits(m *message) {
	l.mu.Lock()
	srch := l.searches[m.qid]
	l.mu.Unlock()
	if srch == nil {
		return
	}
	hits := make([]Hit, len(m.Hits))
	for i, w := range m.Hits {
		hits[i] = fromWireHit(w)
	}
	srch.deliver(m.qid, hits)
}

// collect merges incoming hits and sends them on out until ctx ends.
func (l *Leaf) collect(ctx context.Context, id uuid.UUID, srch *search, out chan<- Hit) {
	defer l.wg.Done()
	defer close(out)
	defer func() {
		l.mu.Lock()
		delete(l.searches, id)
		l.mu.Unlock()
	}()
	merged := make(map[[20]byte]*Hit)
	for {
		var batch []Hit
		select {
		case <-ctx.Done():
			return
		case <-l.stop:
			return
		case batch = <-srch.in:
		}
		for _, h := range batch {
			upd, ok := mergeHit(merged, h)
			if !ok {
				continue
			}
			select {
			case out <- upd:
			case <-ctx.Done():
				return
			case <-l.stop:
				return
			}
		}
	}
}

// mergeHit folds h into merged and returns the Hit to emit, if anything is new.
func mergeHit(merged map[[20]byte]*Hit, h Hit) (Hit, bool) {
	cur := merged[h.InfoHash]
	if cur == nil {
		cur = &Hit{InfoHash: h.InfoHash, Name: h.Name, Size: h.Size, Files: slices.Clone(h.Files), DHT: h.DHT, Swarm: h.Swarm}
		merged[h.InfoHash] = cur
		addName(cur, h.Name)
		addNames(cur, h.Names)
		addSources(cur, h.Sources)
		return cloneHit(*cur), true
	}
	grew := addNames(cur, append([]string{h.Name}, h.Names...))
	if h.DHT && (!cur.DHT || h.Swarm > cur.Swarm) {
		cur.DHT, cur.Swarm, grew = true, max(cur.Swarm, h.Swarm), true
	}
	if !addSources(cur, h.Sources) && !grew {
		return Hit{}, false
	}
	return cloneHit(*cur), true
}

// addNames adds the new names in names to h; it reports whether any were new.
func addNames(h *Hit, names []string) bool {
	grew := false
	for _, n := range names {
		grew = addName(h, n) || grew
	}
	return grew
}

// addSources adds the new addresses in src to h; it reports whether any were new.
func addSources(h *Hit, src []string) bool {
	grew := false
	for _, s := range src {
		if len(h.Sources) >= maxMergedSources {
			break
		}
		if !slices.Contains(h.Sources, s) {
			h.Sources = append(h.Sources, s)
			grew = true
		}
	}
	return grew
}

func cloneHit(h Hit) Hit {
	h.Names = slices.Clone(h.Names)
	h.Files = slices.Clone(h.Files)
	h.Sources = slices.Clone(h.Sources)
	return h
}
