package overlay

import (
	"time"

	"github.com/google/uuid"

	"github.com/shoalp2p/shoal/internal/locks"
)

// origin is where hits for a query go back to: the link it arrived on, or
// an in-process leaf search.
type origin interface {
	deliver(id uuid.UUID, hits []Hit)
}

// routeTable remembers, for every query UUID seen recently, where it came
// from. It is both the duplicate filter and the reverse path for hits. It
// holds at most max entries and forgets each after ttl.
type routeTable struct {
	mu    locks.Mutex
	ttl   time.Duration
	max   int
	m     map[uuid.UUID]routeEntry
	order []uuid.UUID // insertion order, oldest at head
	head  int
}

type routeEntry struct {
	from origin
	at   time.Time
}

func newRouteTable(max int, ttl time.Duration) *routeTable {
	return &routeTable{ttl: ttl, max: max, m: make(map[uuid.UUID]routeEntry)}
}

// add records id as coming from from. It reports false, changing nothing,
// if id is already known.
func (t *routeTable) add(id uuid.UUID, from origin, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(now)
	if _, ok := t.m[id]; ok {
		return false
	}
	for len(t.m) >= t.max {
		t.popOldest()
	}
	t.m[id] = routeEntry{from: from, at: now}
	t.order = append(t.order, id)
	return true
}

// lookup returns where id came from, if it is still remembered.
func (t *routeTable) lookup(id uuid.UUID, now time.Time) (origin, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expire(now)
	e, ok := t.m[id]
	return e.from, ok
}

func (t *routeTable) expire(now time.Time) {
	for t.head < len(t.order) {
		e, ok := t.m[t.order[t.head]]
		if ok && now.Sub(e.at) < t.ttl {
			return
		}
		t.popOldest()
	}
}

// popOldest removes the oldest entry.
func (t *routeTable) popOldest() {
	if t.head >= len(t.order) {
		return
	}
	delete(t.m, t.order[t.head])
	t.head++
	if t.head > 64 && t.head*2 > len(t.order) {
		t.order = append(t.order[:0:0], t.order[t.head:]...)
		t.head = 0
	}
}
