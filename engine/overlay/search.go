package overlay

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Bounds on one search's state.
const (
	searchQueueLen   = 1024 // hit batches waiting for a slow Search reader; more are dropped
	maxMergedSources = 200  // sources kept per infohash across all supernodes
)

// search is one running Leaf.Search; it is also the origin of a local query.
type search struct {
	in      chan searchEvent
	words   string
	origins int    // supernodes the leaf sent the query to itself
	via     string // the supernode link it was sent on; guarded by Leaf.mu
}

func (s *search) deliver(_ uuid.UUID, hits []Hit) { s.post(searchEvent{hits: hits}) }

func (s *search) answered(_ uuid.UUID, a answer) { s.post(searchEvent{ans: &a}) }

// post queues ev for the search; when the queue is full it is dropped (a
// dropped answer mark only makes the search wait for its timeout).
func (s *search) post(ev searchEvent) {
	select {
	case s.in <- ev:
	default:
	}
}

// Search is Query's stream of hits: the channel is closed when the search
// is done or ctx ends.
func (l *Leaf) Search(ctx context.Context, words string) (<-chan Hit, error) {
	q, err := l.Query(ctx, words)
	if err != nil {
		return nil, err
	}
	return q.Hits(), nil
}

// Query sends words to the primary supernode (or the local one) and
// streams hits as they arrive; if that link dies meanwhile, the query goes
// again, under the same UUID, to the supernode that takes over. The hits
// channel is closed when the search is done (every supernode the query went
// to has answered, or the answer timeout has passed), when ctx ends, or
// when Run returns. Hits for the same infohash are merged: each Hit
// carries the union of the sources seen so far, and a later Hit for an
// infohash supersedes the earlier one; a Hit is sent again only when its
// sources or names grew. Words are matched as prefixes, all required, ignoring case
// and accents; ErrBadQuery reports empty, over-long or too many words.
func (l *Leaf) Query(ctx context.Context, words string) (*Query, error) {
	if _, err := ftsQuery(words); err != nil {
		return nil, err
	}
	id := uuid.New()
	srch := &search{in: make(chan searchEvent, searchQueueLen), words: words}
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
		srch.origins++
	}
	if local {
		srch.origins++
	}
	l.searches[id] = srch
	l.wg.Add(1)
	l.mu.Unlock()

	out := make(chan Hit, 16)
	q := &Query{id: id, hits: out}
	go l.collect(ctx, id, srch, q, out)
	if local {
		if err := l.cfg.Local.queryLocal(ctx, id, words, srch); err != nil {
			l.log.Debug("overlay: local query", "err", err)
			srch.post(searchEvent{refused: true})
		}
	}
	if target != nil {
		target.ln.trySend(&message{Type: typeQuery, ID: id.String(), Words: words})
	}
	return q, nil
}

// deliverHits hands a hits frame (hits, then its answer mark if any) to
// the search it answers, if still running.
func (l *Leaf) deliverHits(m *message) {
	srch := l.running(m.qid)
	if srch == nil {
		return
	}
	if len(m.Hits) > 0 {
		hits := make([]Hit, len(m.Hits))
		for i, w := range m.Hits {
			hits[i] = fromWireHit(w)
		}
		srch.deliver(m.qid, hits)
	}
	if a, ok := answerOf(m); ok {
		srch.answered(m.qid, a)
	}
}

// running returns the running search id, or nil.
func (l *Leaf) running(id uuid.UUID) *search {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.searches[id]
}

// collect merges incoming hits and sends them on out until the search is
// done or ctx ends.
func (l *Leaf) collect(ctx context.Context, id uuid.UUID, srch *search, q *Query, out chan<- Hit) {
	defer l.wg.Done()
	defer close(out)
	defer func() {
		l.mu.Lock()
		delete(l.searches, id)
		l.mu.Unlock()
	}()
	merged := make(map[[20]byte]*Hit)
	tr := newAnswerTracker(srch.origins)
	timeout := l.answerTimeout()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		var ev searchEvent
		select {
		case <-ctx.Done():
			return
		case <-l.stop:
			return
		case <-timer.C:
			q.finish(tr, true)
			return
		case ev = <-srch.in:
		}
		if ev.reset {
			tr = newAnswerTracker(1)
			timer.Reset(timeout)
		}
		if !l.emit(ctx, merged, ev.hits, out) {
			return
		}
		if tr.add(ev) {
			p := tr.progress(false)
			if p.Done {
				q.finish(tr, false)
				return
			}
			q.set(p)
		}
	}
}

// emit merges a batch of hits and sends what is new on out; it reports
// false when the search ended meanwhile.
func (l *Leaf) emit(ctx context.Context, merged map[[20]byte]*Hit, batch []Hit, out chan<- Hit) bool {
	for _, h := range batch {
		upd, ok := mergeHit(merged, h)
		if !ok {
			continue
		}
		select {
		case out <- upd:
		case <-ctx.Done():
			return false
		case <-l.stop:
			return false
		}
	}
	return true
}

// mergeHit folds h into merged and returns the Hit to emit, if anything is new.
func mergeHit(merged map[[20]byte]*Hit, h Hit) (Hit, bool) {
	cur := merged[h.InfoHash]
	if cur == nil {
		cur = &Hit{InfoHash: h.InfoHash, Name: h.Name, Size: h.Size, Files: slices.Clone(h.Files), V2: h.V2,
			Roots: slices.Clone(h.Roots), DHT: h.DHT, Swarm: h.Swarm, Scraped: h.Scraped, Seeds: h.Seeds, Leechers: h.Leechers}
		merged[h.InfoHash] = cur
		addName(cur, h.Name)
		addNames(cur, h.Names)
		addSources(cur, h.Sources)
		return cloneHit(*cur), true
	}
	grew := addNames(cur, append([]string{h.Name}, h.Names...))
	if cur.V2 == ([32]byte{}) && h.V2 != ([32]byte{}) {
		cur.V2, grew = h.V2, true
	}
	if len(cur.Roots) == 0 && len(h.Roots) > 0 {
		cur.Roots, grew = slices.Clone(h.Roots), true
	}
	if h.DHT && (!cur.DHT || h.Swarm > cur.Swarm) {
		cur.DHT, cur.Swarm, grew = true, max(cur.Swarm, h.Swarm), true
	}
	if mergeScrape(cur, h) {
		grew = true
	}
	if !addSources(cur, h.Sources) && !grew {
		return Hit{}, false
	}
	return cloneHit(*cur), true
}

// mergeScrape folds h's scrape counts into cur: each count is the largest
// any supernode reported. It reports whether cur changed.
func mergeScrape(cur *Hit, h Hit) bool {
	if !h.Scraped || (cur.Scraped && h.Seeds <= cur.Seeds && h.Leechers <= cur.Leechers) {
		return false
	}
	if !cur.Scraped {
		cur.Scraped, cur.Seeds, cur.Leechers = true, h.Seeds, h.Leechers
		return true
	}
	cur.Seeds, cur.Leechers = max(cur.Seeds, h.Seeds), max(cur.Leechers, h.Leechers)
	return true
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
	h.Roots = slices.Clone(h.Roots)
	return h
}
