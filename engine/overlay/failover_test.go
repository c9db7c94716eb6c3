package overlay

import (
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestFailover(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 3, meshConfig)
	addrs := []string{nodes[0].addr, nodes[1].addr, nodes[2].addr}
	waitNeighbours(t, nodes, 2, 2, 2)
	sharer := startLeaf(t, "127.0.0.1:40061", 3, addrs...)
	sharer.SetShares([]Entry{{InfoHash: ih(20), Name: "survivor album"}})
	searcher := startLeaf(t, "127.0.0.1:40062", 2, addrs...)
	waitFor(t, 5*time.Second, "searcher linked twice", func() bool { return len(searcher.Supernodes()) == 2 })
	searchUntil(t, searcher, "survivor", ih(20), "127.0.0.1:40061")

	linked := searcher.Supernodes()
	var victim *testNode
	for _, n := range nodes {
		if n.addr == linked[0] {
			victim = n
		}
	}
	start := time.Now()
	victim.stop()
	waitFor(t, 5*time.Second, "replacement link", func() bool {
		got := searcher.Supernodes()
		return len(got) == 2 && !slices.Contains(got, victim.addr)
	})
	t.Logf("replaced %s within %v", victim.addr, time.Since(start))
	searchUntil(t, searcher, "survivor", ih(20), "127.0.0.1:40061")
	waitFor(t, 5*time.Second, "sharer relinked", func() bool { return len(sharer.Supernodes()) == 2 })
}

// TestDeadLinkNoticed: a leaf that handshakes and then goes silent (no
// pings) is dropped, with its entries, within a few seconds.
func TestDeadLinkNoticed(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 1, meshConfig)
	sn := nodes[0].sn
	p, _ := dialRaw(t, nodes[0].addr, &message{Type: typeHello, Role: roleLeaf, Port: 6881})
	p.send(t, &message{Type: typeShare, Add: []wireEntry{{InfoHash: hash20(ih(21)), Name: "silent"}}})
	waitFor(t, 5*time.Second, "registration", func() bool { return indexed(sn, "silent") })
	start := time.Now()
	waitFor(t, 3*idleTimeout, "silent leaf dropped", func() bool { return sn.Leaves() == 0 })
	if d := time.Since(start); d < idleTimeout/2 {
		t.Fatalf("dropped after %v: too early for a live link", d)
	}
	if indexed(sn, "silent") {
		t.Fatal("entries of the dead leaf remain")
	}
	// The supernode pinged us meanwhile, then closed.
	sawPing := false
	for {
		m, err := p.read()
		if err == io.EOF || err != nil {
			break
		}
		sawPing = sawPing || m.Type == typePing
	}
	if !sawPing {
		t.Fatal("supernode sent no keepalive")
	}
}

// TestLeafMovesOnWhenFull: a full supernode names others; the leaf links
// to one of them although its Finder only knows the full one.
func TestLeafMovesOnWhenFull(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 2, func(i int, addrs []string) SupernodeConfig {
		return SupernodeConfig{Finder: StaticFinder(addrs), MaxLeaves: 1}
	})
	waitNeighbours(t, nodes, 1, 1)
	first := startLeaf(t, "127.0.0.1:40071", 1, nodes[0].addr)
	waitFor(t, 5*time.Second, "first leaf linked", func() bool { return nodes[0].sn.Leaves() == 1 })
	_ = first
	second := startLeaf(t, "127.0.0.1:40072", 1, nodes[0].addr)
	waitFor(t, 5*time.Second, "second leaf redirected", func() bool {
		return slices.Equal(second.Supernodes(), []string{nodes[1].addr})
	})
	if nodes[0].sn.Leaves() != 1 || nodes[1].sn.Leaves() != 1 {
		t.Fatalf("leaves %d/%d", nodes[0].sn.Leaves(), nodes[1].sn.Leaves())
	}
}

// TestStandbyTakesOver: a leaf linked to two supernodes has its entries in
// the primary's keyword table only; when the primary dies the standby puts
// them in its table at once.
func TestStandbyTakesOver(t *testing.T) {
	t.Parallel()
	nodes := startNodes(t, 2, meshConfig)
	waitNeighbours(t, nodes, 1, 1)
	l := startLeaf(t, "127.0.0.1:40101", 2, nodes[0].addr, nodes[1].addr)
	l.SetShares([]Entry{{InfoHash: ih(70), Name: "standby check"}})
	counted := func(n *testNode) bool {
		keys, err := n.sn.idx.queryKeys(context.Background(), "standby check")
		return err == nil && n.sn.idx.kw.hasAll(keys)
	}
	waitFor(t, 5*time.Second, "both linked and registered", func() bool {
		return len(l.Supernodes()) == 2 && indexed(nodes[0].sn, "standby") && indexed(nodes[1].sn, "standby")
	})
	var primary, standby *testNode
	for _, n := range nodes {
		if counted(n) {
			primary = n
		} else {
			standby = n
		}
	}
	if primary == nil || standby == nil {
		t.Fatal("want the entries counted on exactly one supernode")
	}
	primary.stop()
	waitFor(t, 5*time.Second, "standby counts the entries", func() bool { return counted(standby) })
}

// TestShortLeafRetriesAtBackoffEnd: a leaf short of links that knows a
// supernode it failed to reach retries it when the back-off ends, instead
// of backing off its looks to leafIdleTick as an idle leaf does; and each
// failure in a row doubles that back-off (3 s, 6 s, 12 s...), so that a
// starved machine is not flooded with retries. Here the second
// supernode's address refuses connections: the third dial comes 6 s after
// the second (it came at the next backed-off look, 12 s later, before),
// and the back-off then set is 12 s (it was always 3 s).
func TestShortLeafRetriesAtBackoffEnd(t *testing.T) {
	t.Parallel()
	hub := listenNode(t).start(t, SupernodeConfig{MaxLeaves: 10})
	dead := listenNode(t)
	dead.ln.Close()
	var mu sync.Mutex
	var dials []time.Time
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == dead.addr {
			mu.Lock()
			dials = append(dials, time.Now())
			mu.Unlock()
		}
		return loopback.Dial(ctx, network, addr)
	}
	l := runLeaf(t, LeafConfig{PeerAddr: "127.0.0.1:9", Dial: dial, Finder: StaticFinder{hub.addr, dead.addr}})
	waitFor(t, 30*time.Second, "three dials of the refusing supernode", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(dials) >= 3
	})
	time.Sleep(100 * time.Millisecond) // the third failure's back-off is set
	l.mu.Lock()
	left := time.Until(l.backoff[dead.addr])
	l.mu.Unlock()
	mu.Lock()
	gap := dials[2].Sub(dials[1])
	mu.Unlock()
	if gap > 9*time.Second {
		t.Errorf("third dial %v after the second, with a 6 s back-off: the leaf's looks backed off", gap)
	}
	if left < 8*time.Second {
		t.Errorf("after three failures in a row the back-off is %v, want it doubled to 12 s", left)
	}
	if len(l.Supernodes()) != 1 {
		t.Errorf("linked to %v", l.Supernodes())
	}
}
