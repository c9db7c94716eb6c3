package engine

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// The download queue. Settings.MaxActiveDownloads and MaxActiveSeeds cap
// the downloads (incomplete) and seeds (complete downloads) that run at
// once; 0 means no cap. The others wait, "queued", in their queue order
// (kept in SQLite, a new download last) and start as places free up: a
// download finishes, one is paused or removed, a cap is raised. A queued
// transfer is held like a paused one (no connections, trackers told
// "stopped", not offered in search) but starts by itself. A transfer
// started by hand (ForceStart) runs whatever the caps and does not count
// against them, until it is paused. Shared library items are never
// queued: what the user shares on purpose is always seeded.

// running reports whether Run is serving.
func (e *Engine) running() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runCtx != nil && e.runCtx.Err() == nil
}

// queueItem is a transfer and its queue position, copied for sorting.
type queueItem struct {
	t   *transfer
	pos int64
}

// queueOrder sorts transfers by queue position, then age.
func queueOrder(a, b queueItem) int {
	if c := cmp.Compare(a.pos, b.pos); c != 0 {
		return c
	}
	if c := a.t.added.Compare(b.t.added); c != 0 {
		return c
	}
	return slices.Compare(a.t.ih[:], b.t.ih[:])
}

// queueList returns the downloads (not library items) in queue order.
func (e *Engine) queueList() []*transfer {
	e.mu.Lock()
	items := make([]queueItem, 0, len(e.transfers))
	for _, t := range e.transfers {
		if !t.library {
			items = append(items, queueItem{t: t})
		}
	}
	e.mu.Unlock()
	for i := range items {
		t := items[i].t
		t.mu.Lock()
		items[i].pos = t.qpos
		t.mu.Unlock()
	}
	slices.SortFunc(items, queueOrder)
	list := make([]*transfer, len(items))
	for i, it := range items {
		list[i] = it.t
	}
	return list
}

// queueState is what the queue needs to know of one transfer.
type queueState struct {
	held     bool // paused by the user or stopped at its seeding target
	forced   bool
	queued   bool
	complete bool
}

func (t *transfer) queueState() queueState {
	t.mu.Lock()
	q := queueState{held: t.paused || t.targetReached, forced: t.forced, queued: t.queued}
	sw := t.sw
	t.mu.Unlock()
	q.complete = sw == nil || sw.Complete() // nil: a library item that waits
	return q
}

// caps returns the active caps: downloads and seeds (0 = none).
func (e *Engine) caps() (downloads, seeds int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.settings.MaxActiveDownloads, e.settings.MaxActiveSeeds
}

// applyQueue starts and holds transfers so that, in queue order, at most
// the capped number of downloads and seeds run (forced ones aside). Only
// queueLoop calls it once Run has started (and Run before that), so holds
// and releases never race; everything else kicks the loop.
func (e *Engine) applyQueue() {
	maxDown, maxSeed := e.caps()
	var down, seed int
	for _, t := range e.queueList() {
		q := t.queueState()
		if q.held || q.forced {
			e.release(t)
			continue
		}
		limit, n := maxDown, &down
		if q.complete {
			limit, n = maxSeed, &seed
		}
		if limit > 0 && *n >= limit {
			e.hold(t)
			continue
		}
		*n++
		e.release(t)
	}
}

// wouldQueue reports whether t, about to start, must wait: its class is
// already at its cap with transfers that run.
func (e *Engine) wouldQueue(t *transfer) bool {
	maxDown, maxSeed := e.caps()
	mine := t.queueState()
	if mine.forced {
		return false
	}
	limit := maxDown
	if mine.complete {
		limit = maxSeed
	}
	if limit <= 0 {
		return false
	}
	n := 0
	for _, o := range e.queueList() {
		if o == t {
			continue
		}
		q := o.queueState()
		if !q.held && !q.forced && !q.queued && q.complete == mine.complete {
			n++
		}
	}
	return n >= limit
}

// hold queues a running transfer: its connections close, as on a pause.
func (e *Engine) hold(t *transfer) {
	t.mu.Lock()
	if t.queued {
		t.mu.Unlock()
		return
	}
	t.queued = true
	sw := t.sw
	t.mu.Unlock()
	e.halt(t, sw)
	e.announceChange()
}

// release starts a queued transfer (unless the user paused it meanwhile).
func (e *Engine) release(t *transfer) {
	t.mu.Lock()
	if !t.queued {
		t.mu.Unlock()
		return
	}
	t.queued = false
	sw, held := t.sw, t.paused || t.targetReached
	t.mu.Unlock()
	if held {
		return
	}
	e.run(t, sw) // a transfer queued since its start has not run yet
	e.announceChange()
}

// queueLoop looks at the queue after each kick: whatever changes the
// counts or the caps kicks it (a download completes, one is paused,
// removed, reordered or forced, a seed reaches its target, the settings
// change), so it does not poll.
func (e *Engine) queueLoop(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.queueKick:
		}
		e.applyQueue()
	}
}

// kickQueue has queueLoop look at the queue soon.
func (e *Engine) kickQueue() {
	select {
	case e.queueKick <- struct{}{}:
	default:
	}
}

// nextQueuePos is the queue position of a new download: last.
func (e *Engine) nextQueuePos() int64 {
	var last int64
	for _, t := range e.queueList() {
		t.mu.Lock()
		last = max(last, t.qpos)
		t.mu.Unlock()
	}
	return last + 1
}

// loadQueue reads the queue positions and forced flags saved in SQLite.
func (e *Engine) loadQueue(ctx context.Context) error {
	q, err := e.db.TransferQueue(ctx)
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ent := range q {
		if t := e.transfers[ent.InfoHash]; t != nil {
			t.mu.Lock()
			t.qpos, t.forced = ent.Pos, ent.Forced
			t.mu.Unlock()
		}
	}
	return nil
}

// MoveInQueue moves a download one place earlier (up) or later in the
// queue, past the nearest download of its kind (incomplete or complete);
// at either end nothing moves. The order is saved, and a download moved
// ahead of a running one may start in its place.
func (e *Engine) MoveInQueue(ih InfoHash, up bool) error {
	t, err := e.liveTransfer(ih)
	if err != nil {
		return err
	}
	if t.library {
		return fmt.Errorf("engine: move in queue: %s is shared from the library, which is never queued", t.name)
	}
	list := e.queueList()
	i := slices.Index(list, t)
	complete := t.queueState().complete
	j := i
	for {
		if up {
			j--
		} else {
			j++
		}
		if j < 0 || j >= len(list) {
			return nil
		}
		if list[j].queueState().complete == complete {
			break
		}
	}
	list[i], list[j] = list[j], list[i]
	order := make([][20]byte, len(list))
	for k, o := range list {
		o.mu.Lock()
		o.qpos = int64(k + 1)
		o.mu.Unlock()
		order[k] = o.ih
	}
	if err := e.db.SetQueueOrder(context.Background(), order); err != nil {
		return fmt.Errorf("engine: move in queue: %w", err)
	}
	e.kickQueue()
	return nil
}

// ForceStart starts a download now, whatever the active caps (and
// resumes it if paused); it no longer counts against them. Pausing it
// ends that.
func (e *Engine) ForceStart(ih InfoHash) error {
	t, err := e.liveTransfer(ih)
	if err != nil {
		return err
	}
	if t.library {
		return nil // library items always run
	}
	if err := e.setForced(t, true); err != nil {
		return err
	}
	t.mu.Lock()
	paused := t.paused
	t.mu.Unlock()
	if paused {
		if err := e.Resume(ih); err != nil {
			return err
		}
	}
	e.kickQueue()
	return nil
}

// setForced records t's forced flag in memory and SQLite.
func (e *Engine) setForced(t *transfer, forced bool) error {
	t.mu.Lock()
	was := t.forced
	t.forced = forced
	t.mu.Unlock()
	if was == forced || t.library {
		return nil
	}
	if err := e.db.SetForced(context.Background(), t.ih, forced); err != nil {
		return fmt.Errorf("engine: force start: %w", err)
	}
	return nil
}

// queuePlaces numbers the queued downloads and the queued seeds of list
// 1, 2, 3… in queue order, for snapshots; nil when none is queued.
func queuePlaces(list []*transfer) map[*transfer]int {
	var items []queueItem
	for _, t := range list {
		t.mu.Lock()
		if t.queued {
			items = append(items, queueItem{t: t, pos: t.qpos})
		}
		t.mu.Unlock()
	}
	if len(items) == 0 {
		return nil
	}
	slices.SortFunc(items, queueOrder)
	places := make(map[*transfer]int, len(items))
	var down, seed int
	for _, it := range items {
		t := it.t
		q := t.queueState()
		n := &down
		if q.complete {
			n = &seed
		}
		*n++
		places[t] = *n
	}
	return places
}
