package overlay

import (
	"bufio"
	"context"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/netguard"
)

// loopback is the network policy every test uses.
var loopback = netguard.Policy{LoopbackOnly: true}

// testNode is a supernode behind a real listener on 127.0.0.1 with a tiny
// accept loop that, like the engine, peeks the first byte and hands the
// connection over with nothing consumed.
type testNode struct {
	sn     *Supernode
	addr   string
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// listenNode opens the listener only, so that addresses are known before
// the supernodes are configured.
func listenNode(t *testing.T) *testNode {
	t.Helper()
	ln, err := loopback.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &testNode{ln: ln, addr: ln.Addr().String()}
}

// start creates the supernode with cfg (Addr, Dial, IndexPath filled in) and
// runs it and its accept loop until the test ends or stop is called.
func (n *testNode) start(t *testing.T, cfg SupernodeConfig) *testNode {
	t.Helper()
	cfg.Addr = n.addr
	cfg.Dial = loopback.Dial
	cfg.IndexPath = filepath.Join(t.TempDir(), "index.db")
	if cfg.AdvertInterval == 0 {
		cfg.AdvertInterval = 100 * time.Millisecond
	}
	sn, err := NewSupernode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.sn = sn
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Add(2)
	go func() {
		defer n.wg.Done()
		if err := sn.Run(ctx); err != nil {
			t.Errorf("supernode run: %v", err)
		}
	}()
	go func() {
		defer n.wg.Done()
		n.acceptLoop(ctx)
	}()
	t.Cleanup(n.stop)
	return n
}

func (n *testNode) acceptLoop(ctx context.Context) {
	for {
		c, err := n.ln.Accept()
		if err != nil {
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			br := bufio.NewReader(c)
			b, err := br.Peek(1)
			if err != nil || b[0] == 19 {
				c.Close()
				return
			}
			n.sn.ServeConn(ctx, &peekedConn{Conn: c, r: br})
		}()
	}
}

// stop kills the node: Run and every link end, the listener closes.
func (n *testNode) stop() {
	n.once.Do(func() {
		n.cancel()
		n.ln.Close()
		n.wg.Wait()
		n.sn.Close()
	})
}

// peekedConn reads through the bufio.Reader that peeked the first byte.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(b []byte) (int, error) { return c.r.Read(b) }

// startNodes listens on n addresses, then starts a supernode on each with
// the config returned by cfg(i, addrs).
func startNodes(t *testing.T, count int, cfg func(i int, addrs []string) SupernodeConfig) []*testNode {
	t.Helper()
	nodes := make([]*testNode, count)
	addrs := make([]string, count)
	for i := range nodes {
		nodes[i] = listenNode(t)
		addrs[i] = nodes[i].addr
	}
	for i, n := range nodes {
		n.start(t, cfg(i, addrs))
	}
	return nodes
}

// startLeaf runs a leaf that links through the given supernodes.
func startLeaf(t *testing.T, peerAddr string, links int, supers ...string) *Leaf {
	t.Helper()
	return runLeaf(t, LeafConfig{PeerAddr: peerAddr, Dial: loopback.Dial, Finder: StaticFinder(supers), Links: links})
}

func runLeaf(t *testing.T, cfg LeafConfig) *Leaf {
	t.Helper()
	l := NewLeaf(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("leaf run: %v", err)
		}
	})
	return l
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// indexed reports whether sn's own index answers words (a registration
// reached it).
func indexed(sn *Supernode, words string) bool {
	hits, err := sn.idx.search(context.Background(), words, 10)
	return err == nil && len(hits) > 0
}

// collectHits runs one search and gathers the latest Hit per infohash until
// the channel closes at the timeout.
func collectHits(t *testing.T, l *Leaf, words string, timeout time.Duration) map[[20]byte]Hit {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ch, err := l.Search(ctx, words)
	if err != nil {
		t.Fatalf("search %q: %v", words, err)
	}
	out := make(map[[20]byte]Hit)
	for h := range ch {
		out[h.InfoHash] = h
	}
	return out
}

// searchUntil repeats a search (at most one a second, inside the default
// rate limit) until a hit for ih with every wanted source arrives.
func searchUntil(t *testing.T, l *Leaf, words string, ih [20]byte, sources ...string) Hit {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ch, err := l.Search(ctx, words)
		if err != nil && !errors.Is(err, ErrNoSupernodes) {
			cancel()
			t.Fatalf("search %q: %v", words, err)
		}
		if err != nil {
			ch = closedAt(ctx)
		}
		for h := range ch {
			if h.InfoHash == ih && containsAll(h.Sources, sources) {
				cancel()
				return h
			}
		}
		<-ctx.Done()
		cancel()
		if time.Now().After(deadline) {
			t.Fatalf("no hit for %q with sources %v", words, sources)
		}
	}
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func ih(b byte) [20]byte {
	var h [20]byte
	for i := range h {
		h[i] = b
	}
	return h
}

// closedAt returns a channel that is closed when ctx ends.
func closedAt(ctx context.Context) chan Hit {
	ch := make(chan Hit)
	context.AfterFunc(ctx, func() { close(ch) })
	return ch
}
