package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
)

// TestDemoRestartsOnTheSameData starts the demo swarm, stops it, and
// starts it again on the same --data: the newcomer links to the supernode
// again and finds the sample files, as on the first run.
func TestDemoRestartsOnTheSameData(t *testing.T) {
	root := t.TempDir()
	c := common{loopbackOnly: true, listen: "127.0.0.1:0", logLevel: "warn", bootstrap: "none"}
	for run := 1; run <= 2; run++ {
		ctx, cancel := context.WithCancel(context.Background())
		newcomer, stop, err := startDemoSwarm(ctx, root, c, io.Discard, io.Discard)
		if err != nil {
			cancel()
			t.Fatalf("run %d: %v", run, err)
		}
		found := demoSearch(t, newcomer, "jazz", 60*time.Second)
		net := newcomer.Snapshot().Net
		stop()
		cancel()
		if !found {
			t.Fatalf("run %d: the newcomer found nothing for 'jazz' in 60 s (supernodes %v, DHT nodes %d)",
				run, net.Supernodes, net.DHTNodes)
		}
		t.Logf("run %d: linked to %v, found the jazz collection", run, net.Supernodes)
	}
}

// demoSearch searches from e until a hit names words, or timeout.
func demoSearch(t *testing.T, e *engine.Engine, words string, timeout time.Duration) bool {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		hits, err := e.Search(ctx, words)
		if err == nil {
			for h := range hits {
				if strings.Contains(strings.ToLower(h.Name), words) {
					cancel()
					return true
				}
			}
		}
		cancel()
		time.Sleep(500 * time.Millisecond)
	}
	return false
}
