package enginetest

import (
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/anacrolix/torrent/metainfo"
	"github.com/shoalp2p/shoal/engine"
)

// Node is a running engine owned by a test.
type Node struct {
	*engine.Engine
	Config engine.Config
	cancel context.CancelFunc
	t      testing.TB
}

// Config returns a loopback-only configuration with a fresh data folder.
// bootstrap lists DHT addresses of earlier nodes (none for the first).
func Config(t testing.TB, bootstrap ...string) engine.Config {
	return engine.Config{
		DataDir:      t.TempDir(),
		Listen:       "127.0.0.1:0",
		Bootstrap:    append([]string{}, bootstrap...),
		LoopbackOnly: true,
	}
}

// Start opens and runs an engine; it stops when the test ends.
func Start(t testing.TB, cfg engine.Config) *Node {
	t.Helper()
	cfg.LoopbackOnly = true
	e, err := engine.Open(cfg)
	if err != nil {
		t.Fatalf("enginetest: open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{Engine: e, Config: cfg, cancel: cancel, t: t}
	go e.Run(ctx)
	t.Cleanup(n.Stop)
	return n
}

// stopTimeout is how long Stop waits for the engine to stop.
const stopTimeout = 30 * time.Second

// Stop cancels the engine and waits until its state is saved. An engine
// that does not stop in time fails the test with every goroutine's stack,
// so that a hang seen once (on a loaded CI machine) says where it hung.
func (n *Node) Stop() {
	n.cancel()
	select {
	case <-n.Stopped():
	case <-time.After(stopTimeout):
		n.t.Errorf("enginetest: engine did not stop within %v; goroutines:\n%s", stopTimeout, allStacks())
	}
}

// allStacks is every goroutine's stack, as a panic would print them.
func allStacks() []byte {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) || len(buf) >= 64<<20 {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// DHTAddr is where other nodes bootstrap from.
func (n *Node) DHTAddr() string {
	_, d, _ := n.Addrs()
	return d
}

// PeerAddr is the node's BitTorrent address.
func (n *Node) PeerAddr() string {
	p, _, _ := n.Addrs()
	return p
}

// RandomFile writes size random bytes to dir/name.
func RandomFile(t testing.TB, dir, name string, size int) string {
	t.Helper()
	b := make([]byte, size)
	rand.Read(b)
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// WaitFor polls cond until it holds or the timeout passes.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// Transfer returns the snapshot of one transfer, if present.
func Transfer(s engine.Snapshot, ih engine.InfoHash) (engine.TransferSnapshot, bool) {
	for _, t := range s.Transfers {
		if t.InfoHash == ih {
			return t, true
		}
	}
	return engine.TransferSnapshot{}, false
}

// StartSearchNet starts the smallest search network: a DHT bootstrap node,
// a supernode found through it, and two leaves, a to share and b to
// search. Each stops when the test ends.
func StartSearchNet(t testing.TB) (a, b *Node) {
	t.Helper()
	boot := Start(t, Config(t))
	sCfg := Config(t, boot.DHTAddr())
	sCfg.Supernode = true
	Start(t, sCfg)
	leaf := func() *Node {
		cfg := Config(t, boot.DHTAddr())
		cfg.Leaf = true
		return Start(t, cfg)
	}
	return leaf(), leaf()
}

// WriteTorrent writes mi as a .torrent file at path.
func WriteTorrent(t testing.TB, mi *metainfo.MetaInfo, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(mi.Write(f), f.Close()); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}
