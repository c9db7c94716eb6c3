package engine

import (
	"bytes"
	"context"

	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/engine/storage"
	"github.com/shoalp2p/shoal/engine/swarm"
	"github.com/shoalp2p/shoal/engine/torrentfile"
)

// A library item whose torrent is v1 only starts without a swarm: it keeps
// its info dictionary's bytes and the row's name, size and file count, and
// its swarm (the parsed info, the storage layout, the piece picker) is made
// the first time something needs it: a peer connecting for it, a DHT
// lookup that found peers, a command such as Files or Pause, the Library
// row's details. Until then the item costs its transfer record and the
// info bytes, and a start parses no info dictionary for it
// (TestLazyLibraryItem). A hybrid item (what drop-to-share makes by
// default) waits too: its info is parsed once at the start,
// to know it is a hybrid, and its alias (the v2 infohash cut to 20 bytes)
// is registered from the bytes, so a peer naming it by either infohash
// reaches it and the DHT hears of it under both (TestLazyHybridItem). A
// v2-only item, which needs its piece layers, is made at once.

// metaV2 is BEP 52's key and value in an info dictionary's bytes.
var metaV2 = []byte("12:meta versioni2e")

// waitsForSwarm reports whether a library item with info may wait for its
// swarm without more ado: a v1-only torrent. The check looks for BEP 52's
// key in the bytes; a false hit only has waitsAsHybrid look closer.
func waitsForSwarm(info []byte) bool {
	return info != nil && !bytes.Contains(info, metaV2)
}

// waitsAsHybrid reports whether a library item with info, which has BEP
// 52's key, may wait for its swarm: a hybrid (v1 parts too). It looks at
// the top-level keys only (torrentfile.LooksHybrid): parsing every
// hybrid's info here was most of the work of a start with thousands of
// items, now that shares are hybrids by default (BenchmarkOpenLibrary).
// The info is parsed, and checked, when its swarm is made.
func waitsAsHybrid(info []byte) bool {
	return info != nil && bytes.Contains(info, metaV2) && torrentfile.LooksHybrid(info)
}

// madeSwarm is t's swarm if it has been made (nil for an item that waits).
func (t *transfer) madeSwarm() *swarm.Swarm {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sw
}

// swarmOf returns t's swarm, making it first for an item that waits. It
// is made once (makeOnce: a second caller waits for the first), with no
// lock of t's held, as it reads the disk. Once the item has been started,
// the new swarm starts in the item's context.
func (e *Engine) swarmOf(t *transfer) *swarm.Swarm {
	t.mu.Lock()
	sw, info := t.sw, t.lazyInfo
	t.mu.Unlock()
	if sw != nil || info == nil {
		return sw
	}
	t.makeOnce.Do(func() { e.makeWaiting(t, info) })
	return t.madeSwarm()
}

// makeWaiting makes and installs the swarm of t, an item that waits. If
// the item was started while it waited, the swarm starts in a context of
// its own under the one the item was started in, and the announcer's
// item for it stops with that context, as for an item started with its
// swarm (startTransfer). The swarm of an item removed meanwhile is
// stopped before it is installed: it never runs, and its storage is
// closed (Remove has already stopped the item, and waits for nothing
// made after it looked).
func (e *Engine) makeWaiting(t *transfer, info []byte) {
	made, err := e.newSwarm(t, info, nil)
	if err != nil {
		e.log.Warn("library item not loaded", "name", t.name, "err", err)
		return
	}
	t.mu.Lock()
	if t.removed {
		t.mu.Unlock()
		stopUnstarted(made)
		t.mu.Lock()
		t.sw, t.lazyInfo = made, nil // callers of swarmOf get a stopped swarm, not nil
		t.mu.Unlock()
		return
	}
	t.sw, t.lazyInfo = made, nil
	var ctx context.Context
	if t.ctx != nil { // started, and not stopped since
		ctx, t.cancel = context.WithCancel(t.ctx)
		t.ctx, t.done = ctx, made.Done()
	}
	t.mu.Unlock()
	if ctx == nil {
		return
	}
	made.Start(ctx) // an ended ctx stops it at once
	if it := e.ann.itemOf(t); it != nil {
		e.stopWith(ctx, it)
	}
}

// stopUnstarted stops sw, which never started, and waits until it has
// closed the storage it opened: a swarm started in an ended context stops
// at once.
func stopUnstarted(sw *swarm.Swarm) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sw.Start(ctx)
	<-sw.Done()
}

// activeSwarm is t.swarm() (nil while paused or queued), making a waiting
// item's swarm first.
func (e *Engine) activeSwarm(t *transfer) *swarm.Swarm {
	if t.swarm() == nil && t.waits() {
		e.swarmOf(t)
	}
	return t.swarm()
}

// waits reports whether t is a library item whose swarm is not made yet.
func (t *transfer) waits() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sw == nil && t.lazyInfo != nil
}

// startWaiting is startTransfer's part for an item that waits: it is
// registered with the announcer with no swarm, and has no context, timer
// or goroutine of its own: t.ctx is the engine's run context, and t.cancel
// stops it (stopWaiting). swarmOf gives it a context of its own when it
// makes the swarm. Caller holds t.mu.
func (e *Engine) startWaiting(t *transfer, ctx context.Context) func() {
	t.ctx, t.done = ctx, closedChan
	t.cancel = func() { e.stopWaiting(t) }
	return func() {
		if ctx.Err() != nil {
			return
		}
		_, trackers := t.ann.NextDue()
		it := e.ann.add(ctx, t, nil, true, !trackers && !e.dhtCanAsk())
		t.mu.Lock()
		own, made := t.ctx, t.sw != nil
		t.mu.Unlock()
		switch {
		case own == nil: // stopped before it was scheduled
			if e.ann.claimStop(it) {
				e.stopItem(it)
			}
		case made: // its swarm was made before it was scheduled
			e.stopWith(own, it)
		}
	}
}

// stopWaiting stops t, started while it waited (Remove): its announces
// end. Its swarm was not made when Remove looked (making it installs its
// own cancel), and one made since never runs (makeWaiting). A waiting
// item has sent no tracker anything (a tracker announce makes the swarm
// first), so there is no "stopped" to send.
func (e *Engine) stopWaiting(t *transfer) {
	t.mu.Lock()
	t.ctx = nil
	t.mu.Unlock()
	if it := e.ann.itemOf(t); it != nil && e.ann.claimStop(it) {
		e.stopItem(it)
	}
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// waitingEntry is the search leaf's entry for a library item that waits
// for its swarm, made without one: a single file of a v1 torrent whose
// name is only "name" needs only its row's name and size (no file list,
// no v2 hash); any other parses the info bytes, once (a hybrid's entry
// carries its v2 infohash and pieces roots).
func (t *transfer) waitingEntry() (*overlay.Entry, bool) {
	t.mu.Lock()
	infoBytes := t.lazyInfo
	t.mu.Unlock()
	if infoBytes == nil {
		return nil, false
	}
	if t.files <= 1 && !bytes.Contains(infoBytes, []byte("10:name.utf-8")) && !bytes.Contains(infoBytes, []byte("5:files")) &&
		!bytes.Contains(infoBytes, metaV2) {
		return &overlay.Entry{InfoHash: t.ih, Name: t.name, Size: t.size}, true
	}
	info, err := swarm.ParseInfo(infoBytes)
	if err != nil {
		return nil, false
	}
	v2, roots := v2Hashes(info, infoBytes)
	return &overlay.Entry{InfoHash: t.ih, Name: info.BestName(), Size: storage.ContentLength(info), Files: filePaths(info),
		V2: v2, Roots: roots}, true
}
