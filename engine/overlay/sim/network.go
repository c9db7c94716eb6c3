package sim

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoalp2p/shoal/engine/overlay"
	"github.com/shoalp2p/shoal/internal/netguard"
)

// policy keeps every socket of a simulation on loopback.
var policy = netguard.Policy{LoopbackOnly: true}

// Config describes one simulated network.
type Config struct {
	Nodes       int     // all nodes
	Supernodes  int     // how many of them are supernodes (forced); 0: Nodes/25, at least 4
	PerNode     int     // average files shared per node (default 20)
	MaxReplicas int     // replicas of the most popular file (default Nodes/10)
	Alpha       float64 // Zipf exponent of replica counts by rank (default 1)
	Seed        uint64
	// Supernode tuning passed through (zero: overlay defaults).
	MaxLeaves, MinNeighbours, MaxNeighbours int
	AdvertInterval                          time.Duration
	Logf                                    func(format string, args ...any) // progress, may be nil
	// JoinRate is how many leaves join per second after the supernodes
	// (0: all at once). Real networks grow; thousands of nodes joining in
	// the same instant only measure the start-up storm.
	JoinRate int
	// AfterKill, if set, runs a second after KillAndRecover's kill (a hook
	// for profiling).
	AfterKill func()
	// CountLogs counts the overlay's log records (debug included) by
	// message and error; readiness reports print them.
	CountLogs bool
	// AnswerTimeout is how long a leaf's search waits for the supernodes
	// it went to (0: overlay.DefaultAnswerTimeout, 5 s). A search whose
	// answers are slow ends at the sooner of it and the timeout a
	// measurement gives each search.
	AnswerTimeout time.Duration
}

func (c *Config) setDefaults() {
	if c.Supernodes <= 0 {
		c.Supernodes = max(4, c.Nodes/25)
	}
	if c.PerNode <= 0 {
		c.PerNode = 20
	}
	if c.MaxReplicas <= 0 {
		c.MaxReplicas = max(2, c.Nodes/10)
	}
	if c.Alpha <= 0 {
		c.Alpha = 1
	}
}

// node is one simulated peer.
type node struct {
	id     int
	addr   string // BitTorrent address it advertises (a real listener for supernodes)
	sn     *overlay.Supernode
	leaf   *overlay.Leaf
	ln     net.Listener
	cancel context.CancelFunc
	wg     sync.WaitGroup
	alive  atomic.Bool
}

// Network is a running simulation.
type Network struct {
	cfg    Config
	Cat    *Catalogue
	nodes  []*node
	supers []*node
	byAddr map[string]*node
	reg    *registry
	logs   *logCounter // nil unless Config.CountLogs
	rngMu  sync.Mutex
	rng    *rand.Rand // guarded by rngMu
}

// newRand returns a generator of its own for one caller, seeded from the
// network's, so that runs are repeatable and goroutines share nothing.
func (n *Network) newRand() *rand.Rand {
	n.rngMu.Lock()
	defer n.rngMu.Unlock()
	return rand.New(rand.NewPCG(n.rng.Uint64(), n.rng.Uint64()))
}

// Start builds the catalogue and starts every node: supernodes first (each
// with a listener, an in-memory index and its own shares through its
// in-process leaf), then the leaves.
func Start(cfg Config) (*Network, error) {
	cfg.setDefaults()
	rng := rand.New(rand.NewPCG(cfg.Seed, 1))
	n := &Network{cfg: cfg, rng: rng, reg: &registry{rng: rand.New(rand.NewPCG(cfg.Seed, 2))}, byAddr: map[string]*node{}}
	if cfg.CountLogs {
		n.logs = &logCounter{}
	}
	n.Cat = NewCatalogue(rng, cfg.Nodes, cfg.PerNode, cfg.MaxReplicas, cfg.Alpha)
	start := time.Now()
	for i := range cfg.Nodes {
		nd := &node{id: i}
		var err error
		if i < cfg.Supernodes {
			err = n.startSupernode(nd)
			n.supers = append(n.supers, nd)
		} else {
			if cfg.JoinRate > 0 {
				joined := i - cfg.Supernodes
				time.Sleep(time.Until(start.Add(time.Duration(joined) * time.Second / time.Duration(cfg.JoinRate))))
			}
			nd.addr = "127.0.0.1:" + strconv.Itoa(1+i) // never dialled: leaves are firewalled
			n.startLeaf(nd, nil)
		}
		if err != nil {
			n.Close()
			return nil, err
		}
		n.nodes = append(n.nodes, nd)
		n.byAddr[nd.addr] = nd
		if i == cfg.Supernodes-1 {
			start = time.Now()
		}
	}
	if cfg.Logf != nil {
		cfg.Logf("started %d nodes; leaves joined over %v", cfg.Nodes, time.Since(start).Round(time.Millisecond))
	}
	return n, nil
}

func (n *Network) startSupernode(nd *node) error {
	ln, err := policy.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("sim: listen: %w", err)
	}
	nd.ln, nd.addr = ln, ln.Addr().String()
	sn, err := overlay.NewSupernode(overlay.SupernodeConfig{Addr: nd.addr, Dial: policy.Dial, Finder: n.reg,
		MaxLeaves: n.cfg.MaxLeaves, MinNeighbours: n.cfg.MinNeighbours, MaxNeighbours: n.cfg.MaxNeighbours,
		AdvertInterval: n.cfg.AdvertInterval, Logger: n.logger()})
	if err != nil {
		ln.Close()
		return err
	}
	nd.sn = sn
	ctx := n.startLeaf(nd, sn)
	nd.wg.Add(2)
	go func() {
		defer nd.wg.Done()
		sn.Run(ctx)
	}()
	go func() {
		defer nd.wg.Done()
		acceptLoop(ctx, ln, sn, &nd.wg)
	}()
	n.reg.add(nd.addr)
	return nil
}

// logger returns the overlay logger: counted if Config.CountLogs, else nil.
func (n *Network) logger() *slog.Logger {
	if n.logs == nil {
		return nil
	}
	return slog.New(n.logs)
}

// startLeaf runs nd's leaf (through local, if set) with its shares.
func (n *Network) startLeaf(nd *node, local *overlay.Supernode) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	nd.cancel = cancel
	nd.leaf = overlay.NewLeaf(overlay.LeafConfig{PeerAddr: nd.addr, Dial: policy.Dial, Finder: n.reg, Local: local, Logger: n.logger(),
		AnswerTimeout: n.cfg.AnswerTimeout})
	var entries []overlay.Entry
	for _, f := range n.Cat.Shares[nd.id] {
		entries = append(entries, n.Cat.Files[f].Entry)
	}
	nd.leaf.SetShares(entries)
	nd.alive.Store(true)
	nd.wg.Add(1)
	go func() {
		defer nd.wg.Done()
		nd.leaf.Run(ctx)
	}()
	return ctx
}

// acceptLoop hands every connection to the supernode, like the engine.
func acceptLoop(ctx context.Context, ln net.Listener, sn *overlay.Supernode, wg *sync.WaitGroup) {
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sn.ServeConn(ctx, &peeked{Conn: c, r: bufio.NewReader(c)})
		}()
	}
}

type peeked struct {
	net.Conn
	r *bufio.Reader
}

func (p *peeked) Read(b []byte) (int, error) { return p.r.Read(b) }

// stop kills a node: its links drop at once, as when a process dies.
func (nd *node) stop() {
	if !nd.alive.Swap(false) {
		return
	}
	nd.cancel()
	if nd.ln != nil {
		nd.ln.Close()
	}
	if nd.sn != nil {
		nd.sn.Close()
	}
	nd.wg.Wait()
}

// Close stops every node.
func (n *Network) Close() {
	var wg sync.WaitGroup
	for _, nd := range n.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nd.stop()
		}()
	}
	wg.Wait()
}

// KillSupernodes stops frac of the live supernodes at once and returns
// how many. Their addresses stay in the registry, as they would stay in the
// DHT for a while.
func (n *Network) KillSupernodes(frac float64) int {
	var live []*node
	for _, nd := range n.supers {
		if nd.alive.Load() {
			live = append(live, nd)
		}
	}
	k := int(float64(len(live))*frac + 0.5)
	rng := n.newRand()
	rng.Shuffle(len(live), func(i, j int) { live[i], live[j] = live[j], live[i] })
	var wg sync.WaitGroup
	for _, nd := range live[:k] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nd.stop()
		}()
	}
	wg.Wait()
	return k
}

// registry is the simulation's Finder: the supernode DHT key, as a list
// that returns up to 32 random entries.
type registry struct {
	mu    sync.Mutex
	rng   *rand.Rand
	addrs []string
}

func (r *registry) add(a string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addrs = append(r.addrs, a)
}

// FindSupernodes implements overlay.Finder.
func (r *registry) FindSupernodes(context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, 32)
	for _, i := range r.rng.Perm(len(r.addrs)) {
		if len(out) == 32 {
			break
		}
		out = append(out, r.addrs[i])
	}
	return out, nil
}
