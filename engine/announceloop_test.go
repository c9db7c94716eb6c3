package engine

import (
	"context"
	"testing"
	"time"
)

// TestAnnounceLoopEndedItem: an item whose context ended before anyone
// claimed its stop (a waiting library item's, whose context is Run's,
// when the engine stops) leaves the queue once the loop has looked at it,
// and the loop still stops with its context. The loop used to put such an
// item back due at once and settle it again without looking at its own
// context: an engine stopped while a quiet item was due never stopped
// (TestOldItemsGetRoots, "engine did not stop within 30s").
func TestAnnounceLoopEndedItem(t *testing.T) {
	e := &Engine{}
	e.ann.kick = make(chan struct{}, 1)
	tr := &transfer{ih: InfoHash{1}, library: true, ann: noTrackers}
	ended, end := context.WithCancel(context.Background())
	end()
	it := e.ann.add(ended, tr, nil, true, true) // quiet: due at once
	e.ann.mu.Lock()
	it.dht = time.Now().Add(time.Hour) // no DHT round due: announceQuiet holds
	e.ann.mu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		e.announceLoop(ctx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		e.ann.mu.Lock()
		state, queued := it.state, e.ann.queue.Len()
		e.ann.mu.Unlock()
		if state == itemEnded && queued == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ended item is in state %d with %d queued after 10 s, want out of the queue", state, queued)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("announceLoop did not return within 10 s of its context ending")
	}
	if !e.ann.claimStop(it) {
		t.Error("claimStop of the ended item: not the caller's to stop")
	}
	if e.ann.itemOf(tr) != nil {
		t.Error("the ended item is still scheduled after claimStop")
	}
}
