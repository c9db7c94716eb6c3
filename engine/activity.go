package engine

import (
	"maps"
	"slices"

	"github.com/shoalp2p/shoal/internal/locks"
)

// activity is the set of transfers with work for the periodic flush: every
// swarm that woke (a peer connected or is dialed) since it was last found
// settled, and every download until it is settled. An idle library item
// is not in it, so the flush costs O(active transfers), not O(library).
// Its mutex is a leaf: nothing else is locked while it is held, and the
// swarms' OnWake callbacks take it without any lock of theirs.
type activity struct {
	mu   locks.Mutex
	set  map[InfoHash]*transfer
	kick chan struct{} // poked when the set stops being empty (woken)
}

// add puts t in the set.
func (a *activity) add(t *transfer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.set == nil {
		a.set = make(map[InfoHash]*transfer)
	}
	if len(a.set) == 0 {
		select {
		case a.kickLocked() <- struct{}{}:
		default:
		}
	}
	a.set[t.ih] = t
}

// woken returns a channel that receives after the set stops being empty.
func (a *activity) woken() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.kickLocked()
}

func (a *activity) kickLocked() chan struct{} {
	if a.kick == nil {
		a.kick = make(chan struct{}, 1)
	}
	return a.kick
}

// empty reports whether no transfer is in the set.
func (a *activity) empty() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.set) == 0
}

// remove takes t out of the set.
func (a *activity) remove(t *transfer) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.set[t.ih] == t {
		delete(a.set, t.ih)
	}
}

// list returns the transfers in the set.
func (a *activity) list() []*transfer {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Collect(maps.Values(a.set))
}

// has reports whether t is in the set.
func (a *activity) has(t *transfer) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.set[t.ih] == t
}

// transferList returns every transfer, copied under e.mu so that the
// caller can call into each one without holding it.
func (e *Engine) transferList() []*transfer {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Collect(maps.Values(e.transfers))
}

// activeTransfers is what the flush looks at: the active set.
func (e *Engine) activeTransfers() []*transfer { return e.act.list() }

// markAllActive puts every transfer in the active set, for the last flush
// at shutdown.
func (e *Engine) markAllActive() {
	for _, t := range e.transferList() {
		e.act.add(t)
	}
}

// settle takes out of the active set the transfers of list that have
// nothing left to flush: an idle swarm with every byte count drained and
// every verified piece recorded, and (for a download) its metadata saved.
// A swarm that wakes meanwhile is put back: its OnWake runs after it
// stops being idle, so either it re-adds the transfer after the removal
// here, or the second look here sees it awake.
func (e *Engine) settle(list []*transfer) {
	for _, t := range list {
		if !e.settled(t) {
			continue
		}
		e.act.remove(t)
		if !e.settled(t) {
			e.act.add(t)
		}
	}
}

// settled reports whether t has nothing to flush.
func (e *Engine) settled(t *transfer) bool {
	t.mu.Lock()
	sw, library, saved := t.sw, t.library, t.infoSaved && !t.dirty
	t.mu.Unlock()
	if !library && !saved {
		return false
	}
	return sw == nil || sw.Settled() // nil: a library item that waits
}
