package overlay

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/shoalp2p/shoal/internal/locks"
)

// Adverts. Every supernode floods an advert through the supernode graph:
// its keyword table, its neighbour list and its load, under a sequence
// number that only grows. A receiver keeps the newest advert per origin and
// passes each new one on to its other neighbours, so every supernode knows
// every other's table and links (a link-state view) and can route a query
// to exactly the supernodes whose tables match. An advert carries either
// the whole table (Base 0) or the bits flipped since the advert numbered
// Base; a receiver missing that base asks the sender for the whole table
// ("tablereq") and, until it arrives, treats the table as matching
// everything. On a new link both sides send a digest (origin, seq of every
// advert held) and answer the other's digest with the adverts it lacks.

// Advert timings.
const (
	DefaultAdvertInterval = time.Second      // at most one advert per supernode per interval
	advertRefresh         = 2 * time.Minute  // unchanged supernodes re-advert this often
	advertExpire          = 7 * time.Minute  // origins not heard from this long are forgotten
	digestInterval        = 15 * time.Second // neighbours compare what they hold this often
	digestGrace           = 5 * time.Second  // a neighbour older than an advert held this long missed it
)

// originState is the newest advert heard from one supernode.
type originState struct {
	seq    uint64
	table  *kwTable // nil: not known yet; matches every query
	links  []string
	leaves int
	cap    int
	heard  time.Time // when this seq arrived
	enc    []byte    // the whole table, encoded; nil until needed
	// past holds the seqs that arrived before this one, newest last (at
	// most seqHistory), so that a digest can tell a neighbour that is
	// merely a change or two behind (the adverts are on their way) from
	// one that missed adverts we have held for longer than the grace.
	past []heardSeq
}

// heardSeq is one earlier advert of an origin and when it arrived.
type heardSeq struct {
	seq   uint64
	heard time.Time
}

// seqHistory bounds originState.past: at one advert per AdvertInterval
// (1 s by default) it spans more than digestGrace.
const seqHistory = 8

// heldSince returns the newest seq we already held at t (0: none known).
func (st *originState) heldSince(t time.Time) uint64 {
	if !st.heard.After(t) {
		return st.seq
	}
	for i := len(st.past) - 1; i >= 0; i-- {
		if !st.past[i].heard.After(t) {
			return st.past[i].seq
		}
	}
	return 0
}

// advertStore holds the adverts of other supernodes.
type advertStore struct {
	mu      locks.Mutex
	m       map[string]*originState
	version uint64 // bumped when origins come or go or their links change
}

func newAdvertStore() *advertStore {
	return &advertStore{m: make(map[string]*originState)}
}

// advertResult says what apply did with an advert.
type advertResult int

const (
	advertStale   advertResult = iota // not newer than what we hold: dropped
	advertApplied                     // stored, table known
	advertGap                         // stored, but the table change could not be applied
)

// apply stores m if it is newer than the advert held for its origin. The
// error reports a table that breaks the limits; nothing is stored then.
// changed says the origin is new or its neighbour list, leaf count or
// capacity changed: what roles and routes are decided on.
func (a *advertStore) apply(m *message, now time.Time) (res advertResult, changed bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.m[m.Origin]
	if st != nil && (m.Seq < st.seq || m.Seq == st.seq && (st.table != nil || m.Base != 0)) {
		return advertStale, false, nil
	}
	if st == nil && len(a.m) >= maxOrigins {
		return advertStale, false, nil
	}
	table, err := nextTable(st, m)
	if err != nil {
		return advertStale, false, err
	}
	if st == nil {
		st = &originState{}
		a.m[m.Origin] = st
		a.version++
		changed = true
	}
	if !slices.Equal(st.links, m.Links) {
		a.version++
		changed = true
	}
	changed = changed || st.leaves != m.Leaves || st.cap != m.Cap
	if st.seq != 0 {
		st.past = append(st.past, heardSeq{st.seq, st.heard})
		if len(st.past) > seqHistory {
			st.past = slices.Delete(st.past, 0, len(st.past)-seqHistory)
		}
	}
	st.seq, st.table, st.links = m.Seq, table, slices.Clone(m.Links)
	st.leaves, st.cap, st.heard, st.enc = m.Leaves, m.Cap, now, nil
	if m.Base == 0 {
		st.enc = m.Table
	}
	if table == nil {
		return advertGap, changed, nil
	}
	return advertApplied, changed, nil
}

// nextTable returns the table m describes: a new one for a whole table,
// the held one changed in place for a change from the held seq, nil for a
// change from a table we do not hold. a.mu is held, so readers of tables
// (who hold it too) never see one half changed.
func nextTable(st *originState, m *message) (*kwTable, error) {
	if err := checkTableBits(m.Bits); err != nil {
		return nil, err
	}
	pos, err := decodePositions(m.Table, uint8(m.Bits))
	if err != nil {
		return nil, err
	}
	var t *kwTable
	switch {
	case m.Base == 0:
		t = newTable(uint8(m.Bits))
	case st == nil || st.table == nil || st.seq != m.Base || int(st.table.bits) != m.Bits:
		return nil, nil
	default:
		t = st.table
	}
	t.flipAll(pos)
	if err := t.checkDensity(); err != nil {
		t.flipAll(pos) // undo: the held table stays as it was
		return nil, err
	}
	return t, nil
}

// matching returns the origins whose tables cannot match keys.
func (a *advertStore) cannotMatch(keys []uint32) map[string]bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]bool)
	for o, st := range a.m {
		if !st.table.matchAll(keys) {
			out[o] = true
		}
	}
	return out
}

// expire forgets origins not heard from since before cutoff and reports
// whether any were.
func (a *advertStore) expire(cutoff time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	gone := false
	for o, st := range a.m {
		if st.heard.Before(cutoff) {
			delete(a.m, o)
			a.version++
			gone = true
		}
	}
	return gone
}

// forget drops every advert (the supernode stopped being one).
func (a *advertStore) forget() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.m) > 0 {
		a.m = make(map[string]*originState)
		a.version++
	}
}

// origins lists every origin held.
func (a *advertStore) origins() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Collect(maps.Keys(a.m))
}

// digest lists every origin held with its seq. An origin whose table is
// not known (a change arrived without its base) is left out, so that a
// neighbour holding the table sends it whole: the table request such a
// gap sends can be dropped on a full queue, or reach a neighbour missing
// the table too, and listing the seq would tell every neighbour that the
// view is whole, leaving it stale until the origin's next change.
func (a *advertStore) digest() []digestEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]digestEntry, 0, len(a.m))
	for o, st := range a.m {
		if st.table != nil {
			out = append(out, digestEntry{Origin: o, Seq: st.seq})
		}
	}
	return out
}

// full returns a whole-table advert for origin, if its table is known.
func (a *advertStore) full(origin string) *message {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := a.m[origin]
	if st == nil || st.table == nil {
		return nil
	}
	return fullAdvert(origin, st)
}

// newerThan returns whole-table adverts for every origin the digest lacks,
// and for those it holds an advert older than one we held at now-grace (a
// newer one still on its way is not worth a whole table; but an origin
// that changes more often than the grace must not keep a neighbour that
// missed its adverts stale for good, so the test is against what we held
// then, not against our latest).
func (a *advertStore) newerThan(d []digestEntry, now time.Time, grace time.Duration) []*message {
	have := make(map[string]uint64, len(d))
	for _, e := range d {
		have[e.Origin] = e.Seq
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*message
	for o, st := range a.m {
		seq, ok := have[o]
		if st.table != nil && (!ok || seq < st.heldSince(now.Add(-grace))) {
			out = append(out, fullAdvert(o, st))
		}
	}
	return out
}

// fullAdvert is the whole-table advert of st; a.mu (or the owner's lock)
// is held.
func fullAdvert(origin string, st *originState) *message {
	if st.enc == nil {
		st.enc = encodePositions(st.table.positions(nil))
	}
	return &message{Type: typeAdvert, Origin: origin, Seq: st.seq, Bits: int(st.table.bits),
		Table: st.enc, Links: st.links, Leaves: st.leaves, Cap: st.cap}
}

// load sums the leaves and capacity of every origin held.
func (a *advertStore) load() (origins, leaves, capacity int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, st := range a.m {
		leaves += st.leaves
		capacity += st.cap
	}
	return len(a.m), leaves, capacity
}

// roomiest returns up to n origins with the most free leaf slots.
func (a *advertStore) roomiest(n int) []string {
	a.mu.Lock()
	type cand struct {
		addr string
		free int
	}
	var cs []cand
	for o, st := range a.m {
		if st.cap > st.leaves {
			cs = append(cs, cand{o, st.cap - st.leaves})
		}
	}
	a.mu.Unlock()
	slices.SortFunc(cs, func(x, y cand) int {
		if x.free != y.free {
			return y.free - x.free
		}
		return cmp.Compare(x.addr, y.addr)
	})
	out := make([]string, 0, min(n, len(cs)))
	for _, c := range cs[:min(n, len(cs))] {
		out = append(out, c.addr)
	}
	return out
}
