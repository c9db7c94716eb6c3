package engine

import (
	"container/heap"
	"context"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/shoalp2p/shoal/engine/swarm"
	"github.com/shoalp2p/shoal/engine/tracker"
	"github.com/shoalp2p/shoal/internal/locks"
)

const (
	// announceSpacing is the least time between two announces started by
	// the engine: a library of 10,000 items takes its first round of DHT
	// and tracker announces over some eight minutes, not all at once.
	announceSpacing = 50 * time.Millisecond
	// maxAnnouncing bounds the announces (DHT traversals, tracker
	// requests) in flight together.
	maxAnnouncing = 8
	// dhtReannounce is how often a complete torrent announces itself on
	// the DHT again (stored peers expire after about 30 minutes in
	// common implementations), with up to a tenth of jitter.
	dhtReannounce = 25 * time.Minute
	// firstDelay and maxDelay bound a download's search for peers: it
	// looks again every firstDelay while it has none and is incomplete,
	// and backs off by doubling to maxDelay once it has some.
	firstDelay = 2 * time.Second
	maxDelay   = 5 * time.Minute
)

// announcer schedules every transfer's DHT and tracker announces from one
// goroutine and one timer: a transfer has no goroutine or timer of its own
// for discovery. Announces start at most one per announceSpacing, at most
// maxAnnouncing at once (tracker announces also pass the engine's
// announceGate), and each transfer's next one is due when its trackers'
// intervals (tracker.Announcer) or its DHT period say.
type announcer struct {
	mu       locks.Mutex
	queue    announceQueue
	items    map[*transfer]*announceItem
	lastSlot time.Time // due time handed to the last seed added
	kick     chan struct{}
	// skipped counts the items whose last DHT announce was skipped for
	// want of DHT nodes (announceItem.dhtSkipped); they are made due
	// again, spread out, once the DHT has nodes (dhtUp).
	skipped atomic.Int64
}

// announceItem is one transfer's schedule. Its state says whether it
// waits in the queue or is being announced; when its transfer stops, the
// "stopped" announce is sent by whoever holds it then (stopItem), so that
// tracker.Announcer's Announce and Stop never overlap.
type announceItem struct {
	complete bool // seen complete: "completed" was sent or not needed
	// dhtSkipped: the last DHT announce was skipped, the DHT knowing no
	// node to ask. Guarded by announcer.mu.
	dhtSkipped bool
	// Guarded by announcer.mu:
	state itemState
	again bool // made due while announcing: due again at once
	// portMoved: the port we announce changed while announcing; the DHT
	// announce is due again at once (announcer.portChanged).
	portMoved   bool
	stopPending bool // the transfer stopped while announcing
	t           *transfer
	sw          *swarm.Swarm
	ctx         context.Context // the transfer's: cancelled when it stops
	due         time.Time       // next announce of either kind
	dht         time.Time       // next DHT announce not before
	delay       time.Duration   // a download's current search period
	index       int
}

// itemState is where an announceItem is.
type itemState int

const (
	itemQueued  itemState = iota // waiting in the queue
	itemRunning                  // being announced
	// itemEnded: its context had ended when it was last announced, and
	// nobody had claimed its stop yet. It is out of the queue: announce
	// does nothing once the context has ended and leaves due as it was,
	// so back in the queue it would be due at once, again and again, and
	// announceLoop would spin on it.
	itemEnded
	itemDone // its transfer stopped
)

// add schedules t's announces: a download's at once, a complete torrent's
// in the next free slot, so a library loaded at start spreads out. An
// announce that has nothing to send (quiet: no tracker, no DHT node to ask)
// takes no slot: it is due at once and settled without a wake-up of its own.
func (a *announcer) add(ctx context.Context, t *transfer, sw *swarm.Swarm, complete, quiet bool) *announceItem {
	now := time.Now()
	it := &announceItem{t: t, sw: sw, ctx: ctx, due: now, delay: firstDelay, complete: complete}
	a.mu.Lock()
	if complete && !quiet {
		a.lastSlot = later(a.lastSlot.Add(announceSpacing), now)
		it.due = a.lastSlot
	}
	it.dht = it.due
	if a.items == nil {
		a.items = make(map[*transfer]*announceItem)
	}
	a.items[t] = it
	heap.Push(&a.queue, it)
	a.mu.Unlock()
	a.poke()
	return it
}

// now makes t's next announce due at once (a pause, a resume, a
// completion): the trackers hear "stopped", "started" or "completed"
// without waiting for the interval. Its DHT schedule is kept.
func (a *announcer) now(t *transfer) {
	a.mu.Lock()
	it := a.items[t]
	switch {
	case it == nil:
	case it.state == itemQueued:
		it.due = time.Now()
		heap.Fix(&a.queue, it.index)
	case it.state == itemRunning:
		it.again = true
	}
	a.mu.Unlock()
	a.poke()
}

// itemOf is t's item, nil if t is not scheduled.
func (a *announcer) itemOf(t *transfer) *announceItem {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.items[t]
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// poke wakes Run to look at the queue.
func (a *announcer) poke() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// next pops the item due now, or reports how long until one is.
func (a *announcer) next() (*announceItem, time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.queue.Len() == 0 {
		return nil, time.Hour
	}
	it := a.queue[0]
	if wait := time.Until(it.due); wait > 0 {
		return nil, wait
	}
	heap.Pop(&a.queue)
	it.state = itemRunning
	return it, 0
}

// reschedule puts it back in the queue unless its transfer stopped; then
// it reports whether the "stopped" announce is the caller's to send. An
// item whose context ended before its stop was claimed waits out of the
// queue for claimStop (itemEnded). A waiting library item's stop is
// claimed by Remove only, not when the engine stops (startWaiting).
func (a *announcer) reschedule(it *announceItem) (stop bool) {
	a.mu.Lock()
	if it.stopPending {
		a.forget(it)
		a.mu.Unlock()
		return true
	}
	if it.ctx.Err() != nil {
		it.state = itemEnded
		a.mu.Unlock()
		return false
	}
	if it.again {
		it.due, it.again = time.Now(), false
	}
	if it.portMoved {
		it.dht, it.due, it.portMoved = time.Now(), time.Now(), false
	}
	it.state = itemQueued
	heap.Push(&a.queue, it)
	a.mu.Unlock()
	a.poke()
	return false
}

// claimStop is called when it's transfer stops. It reports whether the
// "stopped" announce is the caller's to send: not if an announce of it is
// running, which sends it when done. An item already out of the queue
// (itemEnded) is the caller's.
func (a *announcer) claimStop(it *announceItem) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch it.state {
	case itemRunning:
		it.stopPending = true
		return false
	case itemQueued:
		heap.Remove(&a.queue, it.index)
	}
	a.forget(it)
	return true
}

// setSkipped records whether it's last DHT announce was skipped.
func (a *announcer) setSkipped(it *announceItem, skipped bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if it.dhtSkipped != skipped && it.state != itemDone {
		it.dhtSkipped = skipped
		a.skipped.Add(map[bool]int64{true: 1, false: -1}[skipped])
	}
}

// dhtUp makes the DHT announces skipped for want of nodes due again, one
// per announceSpacing from now, once the DHT has some. It costs nothing
// while none was skipped.
func (a *announcer) dhtUp() {
	if a.skipped.Load() == 0 {
		return
	}
	a.mu.Lock()
	slot := time.Now()
	for _, it := range a.items {
		if !it.dhtSkipped || it.state != itemQueued {
			continue
		}
		it.dhtSkipped = false
		a.skipped.Add(-1)
		slot = a.dhtNext(it, slot)
	}
	a.mu.Unlock()
	a.poke()
}

// portChanged makes every item's DHT announce due again, one per
// announceSpacing from now (an item being announced, once it is done):
// the port we tell the DHT, the router's mapped one or else the listen
// port, changed, and a peer that dials the old one reaches nobody, or
// another host behind our router. A mapping usually comes a second or
// two after start, while the first announces still run with the listen
// port.
func (a *announcer) portChanged() {
	a.mu.Lock()
	slot := time.Now()
	for _, it := range a.items {
		switch it.state {
		case itemRunning:
			it.portMoved = true
		case itemQueued:
			slot = a.dhtNext(it, slot)
		}
	}
	a.mu.Unlock()
	a.poke()
}

// dhtNext makes queued it's DHT announce due one announceSpacing after
// slot, and the item due then if that is sooner, and returns that time:
// the slot the next item respaced after it follows. dhtUp and portChanged
// share it. a.mu must be held.
func (a *announcer) dhtNext(it *announceItem, slot time.Time) time.Time {
	slot = slot.Add(announceSpacing)
	it.dht = slot
	if slot.Before(it.due) {
		it.due = slot
		heap.Fix(&a.queue, it.index)
	}
	return slot
}

// forget drops it for good. a.mu must be held.
func (a *announcer) forget(it *announceItem) {
	if it.dhtSkipped {
		it.dhtSkipped = false
		a.skipped.Add(-1)
	}
	it.state = itemDone
	if a.items[it.t] == it {
		delete(a.items, it.t)
	}
}

// stopItem sends "stopped" to the trackers that know it's transfer.
func (e *Engine) stopItem(it *announceItem) {
	if it.t.trackersStarted() {
		sw := it.sw
		if sw == nil {
			sw = it.t.madeSwarm() // made by the announce that started the trackers
		}
		e.stopAnnounce(it.t, sw)
	}
}

// announceLoop runs the announcer until ctx ends. It looks at ctx before
// each item, as quiet items are settled here without a select: a queue of
// items due at once must not keep it from seeing that the engine stops.
func (e *Engine) announceLoop(ctx context.Context) error {
	a := &e.ann
	slots := make(chan struct{}, maxAnnouncing)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for ctx.Err() == nil {
		it, wait := a.next()
		if it == nil {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return nil
			case <-a.kick:
			case <-timer.C:
			}
			timer.Stop()
			continue
		}
		if e.announceQuiet(it) {
			// Nothing to send: settle it here, without a goroutine or a
			// slot, so a library with no tracker and no DHT node to ask
			// costs no wake-up per item.
			e.announce(it, true)
			if a.reschedule(it) {
				e.stopItem(it)
			}
			continue
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			defer func() { <-slots }()
			e.announce(it, false)
			if a.reschedule(it) {
				e.stopItem(it)
			}
		}()
		select {
		case <-time.After(announceSpacing):
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// announceQuiet reports whether it's announce would send nothing: not
// paused with trackers to tell, no tracker due, and no DHT round due or no
// DHT node to ask.
func (e *Engine) announceQuiet(it *announceItem) bool {
	t := it.t
	if t.isPaused() {
		return !t.trackersStarted()
	}
	now := time.Now()
	if due, ok := t.trackersDue(); ok && !now.Before(due) {
		return false
	}
	return now.Before(it.dht) || !e.dhtCanAsk()
}

// announce does the announces of it that are due (trackers through
// tracker.Announcer, which keeps their intervals; the DHT on its own
// period), then sets when it is due next. quiet (announceQuiet held) sends
// nothing: the trackers wait for the next round and the DHT round counts
// as skipped, which dhtUp makes due again once the DHT has nodes.
func (e *Engine) announce(it *announceItem, quiet bool) {
	t, sw, ctx := it.t, it.sw, it.ctx
	if ctx.Err() != nil {
		return
	}
	if sw == nil { // a library item that waits for its swarm (lazy.go)
		if sw = t.madeSwarm(); sw == nil && len(t.trackers) > 0 {
			sw = e.swarmOf(t) // tracker announces report its counts
		}
	}
	if !it.complete && sw.Complete() {
		it.complete = true
		for _, set := range t.announcers() {
			set.ann.Completed(time.Now())
		}
	}
	if !quiet {
		e.announceDue(ctx, t, sw) // or "stopped" if paused
	}
	now := time.Now()
	switch {
	case t.isPaused():
		it.dht = now.Add(dhtReannounce) // Resume makes it due again
	case !now.Before(it.dht):
		// With no DHT node to ask, a traversal could only fail: skip it,
		// and have dhtUp make it due again once the DHT finds nodes.
		var found []string
		skip := quiet || !e.dhtCanAsk()
		if !skip {
			seed := it.complete && e.responder != nil && whole(sw)
			if seed {
				e.responder.AnnounceAsSeed(t.ih) // BEP 33: other nodes count us as a seed
			}
			lookup := e.dhtLookup(ctx, t.ih, e.announcePort(), 0, true)
			if alt, ok := e.hybridAlias(t, sw); ok { // libtorrent's hybrids announce both
				if seed {
					e.responder.AnnounceAsSeed(alt)
				}
				more := e.dhtLookup(ctx, alt, e.announcePort(), 0, false)
				lookup.peers = distinctAddrs(append(lookup.peers, more.peers...))
			}
			found = lookup.peers
			e.log.Debug("DHT announced", "infohash", t.ih.String(), "port", e.announcePort(),
				"queried", lookup.queried, "peers", len(found))
			t.setDHT(countOf(lookup))
			if sw == nil && len(found) > 0 {
				sw = e.swarmOf(t) // peers to meet: the item's swarm is needed now
			}
			if sw != nil {
				sw.AddPeers(found...)
			}
		}
		e.ann.setSkipped(it, skip)
		now = time.Now()
		if it.complete || (sw != nil && sw.NumPeers() > 0) {
			it.delay = min(it.delay*2, maxDelay)
		}
		if it.complete {
			it.dht = now.Add(dhtReannounce + rand.N(dhtReannounce/10))
		} else {
			it.dht = now.Add(it.delay)
		}
	}
	it.due = t.nextWake(it.dht)
}

// announceQueue is a min-heap of items by due time.
type announceQueue []*announceItem

func (q announceQueue) Len() int           { return len(q) }
func (q announceQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q announceQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *announceQueue) Push(x any) {
	it := x.(*announceItem)
	it.index = len(*q)
	*q = append(*q, it)
}
func (q *announceQueue) Pop() any {
	old := *q
	n := len(old)
	it := old[n-1]
	old[n-1] = nil
	*q = old[:n-1]
	return it
}

// distinctAddrs is list without repeats, in order.
func distinctAddrs(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0]
	for _, a := range list {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// noTrackers is the tracker announcer of every transfer without trackers:
// one with no tier keeps no state, so they share it (an idle library
// item's heap).
var noTrackers = tracker.NewAnnouncer(nil, tracker.Schedule{})

// announcerFor is the tracker announcer for tiers of announce URLs.
func announcerFor(tiers [][]string) *tracker.Announcer {
	for _, tier := range tiers {
		for _, u := range tier {
			if u != "" {
				return tracker.NewAnnouncer(tiers, tracker.Schedule{})
			}
		}
	}
	return noTrackers
}

// whole reports whether sw has every piece, as BEP 33's seed flag claims.
// Complete counts the wanted pieces only: a download with files skipped
// is complete without being a seed. A library item that waits for its
// swarm (nil) holds all its files.
func whole(sw *swarm.Swarm) bool {
	if sw == nil {
		return true
	}
	st := sw.Stats()
	return st.HasInfo && st.PiecesHave == st.Pieces
}
