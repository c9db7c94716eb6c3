package engine

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/anacrolix/dht/v2/krpc"
)

// TestDHTAnnounceWaitsForNodes: a node with no bootstrap list and an empty
// routing table has nobody to ask, so its library's DHT announces are
// skipped (no traversal is started) instead of failing one by one; once
// the DHT knows a node, the skipped announces run and reach it.
func TestDHTAnnounceWaitsForNodes(t *testing.T) {
	ctx := context.Background()
	seed, err := Open(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "item.txt")
	if err := os.WriteFile(path, []byte("an item shared before any DHT node is known\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.ShareSync(ctx, path, nil); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer func() { stop(); <-seed.Stopped() }()
	go seed.Run(runCtx)
	waitUntil(t, "the announce to be skipped", 10*time.Second, func() bool { return seed.ann.skipped.Load() == 1 })
	if q := seed.dht.Stats().OutboundQueriesAttempted; q != 0 {
		t.Fatalf("the DHT sent %d queries with no node to ask, want none", q)
	}

	other, err := Open(Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", LoopbackOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	otherCtx, stopOther := context.WithCancel(ctx)
	defer func() { stopOther(); <-other.Stopped() }()
	go other.Run(otherCtx)
	ni := krpc.NodeInfo{ID: other.dht.ID()}
	ni.Addr.FromUDPAddr(other.pc.LocalAddr().(*net.UDPAddr))
	if err := seed.dht.AddNode(ni); err != nil {
		t.Fatal(err)
	}
	seed.noteDHTNodes()
	waitUntil(t, "the skipped announce to reach the new node", 20*time.Second, func() bool {
		return seed.dht.Stats().SuccessfulOutboundAnnouncePeerQueries > 0
	})
	if n := seed.ann.skipped.Load(); n != 0 {
		t.Fatalf("%d announces still skipped after the DHT found a node", n)
	}
}
