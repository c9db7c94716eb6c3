package engine

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"
)

// TestDHTReadOnly: a read-only node (BEP 43, a CLI search) that enters
// the DHT through a node learns it, but is left out of that node's
// routing table and answers no ping; a normal node entering the same
// way is taken in (so the check can fail).
func TestDHTReadOnly(t *testing.T) {
	boot := startDHTNode(t, Config{})
	bootAddr := boot.pc.LocalAddr().String()
	ro := startDHTNode(t, Config{Bootstrap: []string{bootAddr}, DHTReadOnly: true})
	waitUntil(t, "the read-only node to learn the bootstrap node", 20*time.Second, func() bool {
		return ro.dht.NumNodes() > 0
	})
	if n := boot.dht.NumNodes(); n != 0 {
		t.Fatalf("the bootstrap node took a read-only node into its routing table (%d nodes)", n)
	}
	if answersPing(t, ro.pc.LocalAddr().String()) {
		t.Fatal("the read-only node answered a ping")
	}
	startDHTNode(t, Config{Bootstrap: []string{bootAddr}})
	waitUntil(t, "the bootstrap node to take a normal node in", 20*time.Second, func() bool {
		return boot.dht.NumNodes() > 0
	})
}

// startDHTNode runs a loopback engine with cfg's DHT settings until the
// test ends.
func startDHTNode(t *testing.T, cfg Config) *Engine {
	t.Helper()
	cfg.DataDir, cfg.Listen, cfg.LoopbackOnly = t.TempDir(), "127.0.0.1:0", true
	e, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(func() { stop(); <-e.Stopped() })
	go e.Run(ctx)
	return e
}

// answersPing sends a KRPC ping to addr and reports whether a reply comes
// within 2 s (a node may also send queries of its own to the address).
func answersPing(t *testing.T, addr string) bool {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("d1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe")); err != nil {
		return false
	}
	buf := make([]byte, 1500)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return false
		}
		if bytes.Contains(buf[:n], []byte("1:y1:r")) {
			return true
		}
	}
}
