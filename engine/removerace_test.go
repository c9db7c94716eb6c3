package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestRemoveWhileMaking (issue 17): Remove of a library item that waits
// for its swarm, while another goroutine makes that swarm (swarmOf, as an
// incoming peer or the Files command does). Whichever goes first, once
// both have returned the removed item has no swarm that runs or holds its
// storage: either none was installed, or Remove waited until it stopped.
// Remove used to wait on the waiting item's closed channel while the
// swarm made meanwhile was still stopping, or leave a swarm made after
// its stop installed and never stopped (its storage open).
func TestRemoveWhileMaking(t *testing.T) {
	const rounds = 40
	e, _ := openRunning(t, Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	src := t.TempDir()
	for i := range rounds {
		path := filepath.Join(src, fmt.Sprintf("race-%02d.bin", i))
		if err := os.WriteFile(path, make([]byte, 64<<10+i), 0o644); err != nil {
			t.Fatal(err)
		}
		ih, err := e.ShareSync(context.Background(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := e.lookup(ih)
		if err != nil {
			t.Fatal(err)
		}
		if !tr.waits() {
			t.Fatalf("round %d: the shared item has its swarm already; want one that waits", i)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		// Either may go first: Remove before, while or after the swarm is made.
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(rand.N(1000)) * time.Microsecond)
			e.swarmOf(tr)
		}()
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(rand.N(1000)) * time.Microsecond)
			if err := e.Remove(ih, false); err != nil {
				t.Errorf("round %d: remove: %v", i, err)
			}
			if sw := tr.madeSwarm(); sw != nil && !isClosed(sw.Done()) {
				t.Errorf("round %d: Remove returned while the item's swarm still runs", i)
			}
		}()
		wg.Wait()
		if sw := tr.madeSwarm(); sw != nil {
			select {
			case <-sw.Done():
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d: the removed item's swarm, made meanwhile, has not stopped after 10 s", i)
			}
		}
	}
}

// isClosed reports whether c is closed, without waiting.
func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
