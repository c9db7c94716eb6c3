package overlay

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// bulkEntries makes n entries for leaf number leaf.
func bulkEntries(leaf, n int) []Entry {
	out := make([]Entry, n)
	for i := range out {
		var h [20]byte
		copy(h[:], fmt.Sprintf("bulk-%04d-%08d", leaf, i))
		out[i] = Entry{InfoHash: h, Name: fmt.Sprintf("bulk %d item %d", leaf, i), Size: int64(i + 1),
			Files: []string{fmt.Sprintf("dir%d/file%d.bin", leaf, i)}}
	}
	return out
}

// TestSearchBeforeWrites: a search waits for at most a chunk of a write
// in progress, never for the writes queued behind it. Without the gate
// (and put's chunks) the search waited for the whole registration of
// thousands of entries, and for every share write queued after it with
// even odds at each statement: after a fifth of the supernodes died, the
// survivors took in their leaves' shares and searches missed the answer
// timeout (recall 0.1–0.6 at 1,000 nodes for the 15 s after the kill).
// The figure checked is how many entries were written between the call
// and the moment the search got the connection, not a time. (Counted
// after the search returned, it also took in the chunks written after it,
// before the test read the counter: 39 in one CI run under -race.)
func TestSearchBeforeWrites(t *testing.T) {
	t.Parallel()
	x := openTestIndex(t)
	var atEntry atomic.Int64
	x.searchIn = func() { atEntry.Store(x.upserts.Load()) }
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := x.put(ctx, int64(10+w), "127.0.0.1:2000", bulkEntries(w, 1500), 10000); err != nil {
				t.Error(err)
			}
		}()
	}
	defer wg.Wait()
	deadline := time.Now().Add(2 * time.Minute)
	for x.upserts.Load() < int64(len(indexEntries))+50 {
		if time.Now().After(deadline) {
			t.Fatal("the writes did not start")
		}
		time.Sleep(time.Millisecond)
	}
	for range 3 {
		before := x.upserts.Load()
		hits, err := x.search(ctx, "cafe", 10)
		if err != nil || len(hits) != 1 || hits[0].InfoHash != ih(1) {
			t.Fatalf("search: %v, %d hits", err, len(hits))
		}
		if waited := atEntry.Load() - before; waited > putChunk {
			t.Errorf("%d entries were written while one search waited (at most %d: the chunk in progress)", waited, putChunk)
		}
	}
}

// TestLeafNotBehindWrites: while a long write holds the index's write
// lock, a leaf naming us its standby is still welcomed, and a leaf that
// makes us its primary (a "mode" frame) still gets its search answered
// right after. Both used to wait for the write lock on the link's reader:
// a supernode taking over the leaves of dead ones kept their handshakes
// past the 5 s timeout (they dialled again and again) and their searches
// past the answer timeout.
func TestLeafNotBehindWrites(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 1, func(int, []string) SupernodeConfig { return SupernodeConfig{} })
	sn, addr := nodes[0].sn, nodes[0].addr
	sn.idx.wmu.Lock() // a write that takes its time
	locked := true
	unlock := func() {
		if locked {
			locked = false
			sn.idx.wmu.Unlock()
		}
	}
	defer unlock()

	p, reply := dialRaw(t, addr, &message{Type: typeHello, Role: roleLeaf, Port: 6881, Standby: true})
	if reply.Type != typeWelcome {
		t.Fatalf("standby hello answered with %+v while the write lock was held", reply)
	}
	p.send(t, &message{Type: typeMode}) // we are its primary now
	q := query("anything")
	p.send(t, q)
	for {
		m, err := p.read()
		if err != nil {
			t.Fatalf("no answer to the search while the write lock was held: %v", err)
		}
		if m.Type == typeHits && m.ID == q.ID && m.Answered == addr {
			break
		}
	}
	sn.mu.Lock()
	var id int64
	for id = range sn.leaves {
	}
	sn.mu.Unlock()
	if sn.idx.counted(id) {
		t.Fatal("the mode change was applied while the write lock was held")
	}
	unlock()
	// The mode change is applied once the write is done.
	deadline := time.Now().Add(time.Minute)
	for !sn.idx.counted(id) {
		if time.Now().After(deadline) {
			t.Fatal("the leaf's mode change was never applied")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWritesNotStarved: under a steady stream of searches a write still
// gets the connection (after at most maxReadsInRow searches in a row).
func TestWritesNotStarved(t *testing.T) {
	t.Parallel()
	g := newDBGate()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				g.enter(true)
				time.Sleep(100 * time.Microsecond)
				g.leave()
			}
		}()
	}
	defer wg.Wait()
	defer close(stop)
	time.Sleep(10 * time.Millisecond) // the searches are going
	for range 5 {
		done := make(chan struct{})
		go func() {
			g.enter(false)
			g.leave()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("a write never got the connection while searches kept coming")
		}
	}
}

// TestEmptyLeafLeavesWithoutWrite: a leaf that leaves before sending any
// share is forgotten without a write, even while the write lock is held
// (leaves whose handshakes time out come and go by the thousand on a
// starved machine; their empty deletions queued ahead of real shares).
func TestEmptyLeafLeavesWithoutWrite(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 1, func(int, []string) SupernodeConfig { return SupernodeConfig{} })
	sn, addr := nodes[0].sn, nodes[0].addr
	sn.idx.wmu.Lock()
	defer sn.idx.wmu.Unlock()
	p := dialLeaf(t, addr)
	deadline := time.Now().Add(time.Minute)
	for sn.Leaves() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the leaf was never registered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.c.Close()
	for sn.Leaves() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a leaf without shares is still registered: its departure waited for the write lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
