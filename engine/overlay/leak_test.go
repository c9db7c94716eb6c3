package overlay

import (
	"runtime"
	"testing"
	"time"
)

// TestNoGoroutineLeak runs a small network, stops it through the public
// lifecycles (cancel Run, Close) and checks every goroutine it started ended.
// It is not parallel, so it runs before the parallel tests start.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Run("network", func(t *testing.T) {
		nodes := startNodes(t, 2, meshConfig)
		waitNeighbours(t, nodes, 1, 1)
		local := runLeaf(t, LeafConfig{PeerAddr: "127.0.0.1:40081", Local: nodes[0].sn})
		local.SetShares([]Entry{{InfoHash: ih(50), Name: "leak check"}})
		remote := startLeaf(t, "127.0.0.1:40082", 2, nodes[0].addr, nodes[1].addr)
		searchUntil(t, remote, "leak", ih(50), "127.0.0.1:40081")
		collectHits(t, local, "leak", 100*time.Millisecond)
	})
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
