package dhtindex

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mbits "math/bits"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/krpc"
	"golang.org/x/time/rate"
)

// SampleAnswer is one node's BEP 51 answer.
type SampleAnswer struct {
	Samples  [][20]byte
	Num      int
	Interval time.Duration
	Nodes    []krpc.NodeInfo
}

// Crawler is what the BEP 51 crawl needs of a DHT node.
type Crawler interface {
	// ID is our node ID.
	ID() [20]byte
	// Nodes lists the routing table.
	Nodes() []krpc.NodeInfo
	// SampleInfohashes asks one node.
	SampleInfohashes(ctx context.Context, to *net.UDPAddr, target [20]byte) (SampleAnswer, error)
}

// ServerCrawler is a Crawler over an anacrolix/dht server.
type ServerCrawler struct{ S *dht.Server }

// ID implements Crawler.
func (c ServerCrawler) ID() [20]byte { return c.S.ID() }

// Nodes implements Crawler.
func (c ServerCrawler) Nodes() []krpc.NodeInfo { return c.S.Nodes() }

// NodeFinder is what a Crawler may also do: ask one node for the nodes it
// knows closest to target (find_node). The crawl uses it to learn the
// nodes of its part of the keyspace when none it knows is due.
type NodeFinder interface {
	FindNodes(ctx context.Context, to *net.UDPAddr, target [20]byte) ([]krpc.NodeInfo, error)
}

// FindNodes implements NodeFinder with one try and the library's own send
// limiter bypassed (the crawl's budget counts it).
func (c ServerCrawler) FindNodes(ctx context.Context, to *net.UDPAddr, target [20]byte) ([]krpc.NodeInfo, error) {
	res := c.S.Query(ctx, dht.NewAddr(to), "find_node", dht.QueryInput{
		MsgArgs:      krpc.MsgArgs{Target: target},
		NumTries:     1,
		RateLimiting: dht.QueryRateLimiting{NotAny: true},
	})
	if err := res.ToError(); err != nil {
		return nil, fmt.Errorf("dhtindex: find_node to %s: %w", to, err)
	}
	var out []krpc.NodeInfo
	if r := res.Reply.R; r != nil {
		r.ForAllNodes(func(n krpc.NodeInfo) { out = append(out, n) })
	}
	return out, nil
}

// errNoSamples means a node answered without "samples": it does not speak
// BEP 51.
var errNoSamples = errors.New("dhtindex: answer without samples")

// SampleInfohashes implements Crawler with one try and the library's own
// send limiter bypassed (the crawl has its own budget).
func (c ServerCrawler) SampleInfohashes(ctx context.Context, to *net.UDPAddr, target [20]byte) (SampleAnswer, error) {
	res := c.S.Query(ctx, dht.NewAddr(to), "sample_infohashes", dht.QueryInput{
		MsgArgs:      krpc.MsgArgs{Target: target},
		NumTries:     1,
		RateLimiting: dht.QueryRateLimiting{NotAny: true},
	})
	if err := res.ToError(); err != nil {
		return SampleAnswer{}, fmt.Errorf("dhtindex: sample_infohashes to %s: %w", to, err)
	}
	r := res.Reply.R
	if r == nil || r.Samples == nil {
		return SampleAnswer{}, errNoSamples
	}
	a := SampleAnswer{Samples: *r.Samples}
	if r.Num != nil {
		a.Num = int(*r.Num)
	}
	if r.Interval != nil {
		a.Interval = time.Duration(*r.Interval) * time.Second
	}
	r.ForAllNodes(func(n krpc.NodeInfo) { a.Nodes = append(a.Nodes, n) })
	return a, nil
}

// Crawl tuning.
const (
	crawlParallel  = 8                // queries in flight
	crawlPerRound  = 16               // nodes asked per target
	maxPool        = 4096             // nodes remembered from answers
	maxCooldowns   = 50_000           // per-node next-query times remembered
	minInterval    = 10 * time.Second // however small the interval a node gives
	defaultWait    = 5 * time.Minute  // a node that gave no interval
	unsupportedGap = time.Hour        // a node that does not speak BEP 51
	failedGap      = 10 * time.Minute // a node that did not answer, at most (failWait)
	failedRetryGap = 30 * time.Second // a node that did not answer once
	exploreGap     = time.Minute      // between queries outside our part while we know none in it
	discoverGap    = time.Minute      // between find_node queries to one node
)

// crawlState is the polite BEP 51 crawl: one global budget (a rate
// limiter) and a per-node next-query time from the interval it gave.
type crawlState struct {
	c       Crawler
	limiter *rate.Limiter
	prefix  int
	region  func() ([20]byte, [][20]byte)

	mu         sync.Mutex
	exploredAt time.Time
	nextAt     map[string]time.Time
	findAt     map[string]time.Time // per node, when it may be asked find_node again
	fails      map[string]uint8     // unanswered queries in a row, per node
	pool       map[string]krpc.NodeInfo
	sent       atomic.Int64 // sample_infohashes queries
	answered   atomic.Int64 // ... answered with samples
	finds      atomic.Int64 // find_node queries (discover)
}

func newCrawlState(cfg IndexerConfig) *crawlState {
	return &crawlState{c: cfg.Crawl, limiter: rate.NewLimiter(rate.Limit(cfg.CrawlRate), 1),
		prefix: min(max(cfg.PrefixBits, 0), 32), region: cfg.Region,
		nextAt: make(map[string]time.Time), findAt: make(map[string]time.Time), fails: make(map[string]uint8), pool: make(map[string]krpc.NodeInfo)}
}

// run crawls until ctx ends: each round picks a target near our node ID
// and asks the closest nodes whose interval has passed.
func (cs *crawlState) run(ctx context.Context, in *intake) {
	sem := make(chan struct{}, crawlParallel)
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		target := cs.target()
		due := cs.due(target, time.Now())
		if len(due) == 0 {
			// Learn more nodes meanwhile, in a free query slot, so that
			// a slow answer does not hold up the next look.
			select {
			case sem <- struct{}{}:
				wg.Go(func() {
					defer func() { <-sem }()
					cs.discover(ctx)
				})
			default:
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		for _, n := range due {
			if err := cs.limiter.Wait(ctx); err != nil {
				return
			}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			// Each query its own target in our part of the keyspace, so
			// that the nodes answers carry differ and the crawl spreads.
			wg.Go(func() {
				defer func() { <-sem }()
				cs.ask(ctx, n, cs.target(), in)
			})
		}
	}
}

// regionTries bounds the draws for a target in our region.
const regionTries = 256

// target is a random ID in our part of the keyspace: with a Region, one
// closer to our position than to any other crawling supernode's (drawn
// near our position, so few draws are needed); else one sharing our
// node ID's first prefix bits.
func (cs *crawlState) target() [20]byte {
	if cs.region == nil {
		return randomNear(cs.c.ID(), cs.prefix)
	}
	self, others := cs.region()
	// Targets share about log2(N) leading bits with self, where most
	// of our cell lies.
	bits := max(0, mbits.Len(uint(len(others)+1))-2)
	var t [20]byte
	for range regionTries {
		t = randomNear(self, bits)
		if Owns(self, others, t) {
			return t
		}
	}
	return randomNear(self, bits+4)
}

// Owns reports whether t is closer (XOR) to self than to every position in
// others: whether t falls in self's part of the keyspace.
func Owns(self [20]byte, others [][20]byte, t [20]byte) bool {
	ds := xor(self, t)
	for _, o := range others {
		if o == self {
			continue
		}
		do := xor(o, t)
		if bytes.Compare(do[:], ds[:]) < 0 {
			return false
		}
	}
	return true
}

// randomNear is a random ID sharing the first prefix bits of id.
func randomNear(id [20]byte, prefix int) [20]byte {
	var t [20]byte
	rand.Read(t[:])
	for i := 0; i < min(prefix, 160); i++ {
		mask := byte(0x80 >> (i % 8))
		t[i/8] = t[i/8]&^mask | id[i/8]&mask
	}
	return t
}

// due returns up to crawlPerRound known nodes closest to target whose
// next-query time has come (with a Region, only nodes in our part of the
// keyspace), and books them (failedGap) so that no other round picks them
// meanwhile.
func (cs *crawlState) due(target [20]byte, now time.Time) []krpc.NodeInfo {
	self := cs.c.ID()
	nodes := cs.c.Nodes()
	mine := func(krpc.NodeInfo) bool { return true }
	if cs.region != nil {
		pos, others := cs.region()
		mine = func(n krpc.NodeInfo) bool { return Owns(pos, others, n.ID) }
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	nodes = cs.knownLocked(nodes)
	slices.SortFunc(nodes, func(a, b krpc.NodeInfo) int {
		da, db := xor(a.ID, target), xor(b.ID, target)
		return bytes.Compare(da[:], db[:])
	})
	var out []krpc.NodeInfo
	owned := false
	for _, n := range nodes {
		key := n.Addr.String()
		if n.ID == self || n.Addr.Port == 0 || !mine(n) {
			continue
		}
		owned = true
		if now.Before(cs.nextAt[key]) {
			continue
		}
		cs.book(key, now.Add(failedGap), now)
		out = append(out, n)
		if len(out) == crawlPerRound {
			break
		}
	}
	if !owned && now.Sub(cs.exploredAt) >= exploreGap {
		// We know no node of our part yet: ask the one closest to it
		// (outside it), whose answer names nodes near our target; at
		// most once per exploreGap, as our part may hold no node at all.
		cs.exploredAt = now
		for _, n := range nodes {
			if key := n.Addr.String(); n.ID != self && n.Addr.Port != 0 && !now.Before(cs.nextAt[key]) {
				cs.book(key, now.Add(failedGap), now)
				return []krpc.NodeInfo{n}
			}
		}
	}
	return out
}

// book sets a node's next-query time, bounding the map. Caller holds mu.
func (cs *crawlState) book(key string, at, now time.Time) { bookIn(cs.nextAt, key, at, now) }

// bookIn sets key's time in a per-node cooldown map, dropping the times
// that have passed once it holds maxCooldowns; if every slot is still
// cooling down, key is skipped. Caller holds mu.
func bookIn(m map[string]time.Time, key string, at, now time.Time) {
	if len(m) >= maxCooldowns {
		for k, t := range m {
			if now.After(t) {
				delete(m, k)
			}
		}
		if len(m) >= maxCooldowns {
			return
		}
	}
	m[key] = at
}

// knownLocked is the routing table (nodes, read before taking mu) plus
// the nodes kept from answers. Caller holds mu.
func (cs *crawlState) knownLocked(nodes []krpc.NodeInfo) []krpc.NodeInfo {
	for _, n := range cs.pool {
		nodes = append(nodes, n)
	}
	return nodes
}

// keepLocked adds nodes (from an answer) to the pool, up to maxPool; due
// and finderFor skip ourselves and portless entries. Caller holds mu.
func (cs *crawlState) keepLocked(nodes []krpc.NodeInfo) {
	for _, n := range nodes {
		if len(cs.pool) >= maxPool {
			break
		}
		cs.pool[n.Addr.String()] = n
	}
}

// failWait counts one more unanswered query to the node at key and
// returns how long to leave it: failedRetryGap, doubled for each failure
// in a row, at most failedGap. One lost datagram (a loaded node, a full
// socket buffer) then costs half a minute, not ten. Caller holds mu.
func (cs *crawlState) failWait(key string) time.Duration {
	if len(cs.fails) >= maxCooldowns {
		clear(cs.fails)
	}
	n := min(cs.fails[key], 254) + 1
	cs.fails[key] = n
	return backoff(failedRetryGap, failedGap, n)
}

// discover asks one known node, within the budget, for the nodes closest
// to a target in our part of the keyspace, and keeps them for due: the
// crawl otherwise learns nodes only from sample answers, so with few nodes
// of its part known (all waiting out their intervals) it would idle while
// most of its part stayed unseen. Each node is asked at most once per
// discoverGap.
func (cs *crawlState) discover(ctx context.Context) {
	f, ok := cs.c.(NodeFinder)
	if !ok {
		return
	}
	target := cs.target()
	n, ok := cs.finderFor(target, time.Now())
	if !ok || cs.limiter.Wait(ctx) != nil {
		return
	}
	cs.finds.Add(1)
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	nodes, err := f.FindNodes(qctx, n.Addr.UDP(), target)
	if err != nil {
		return
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.keepLocked(nodes)
}

// finderFor picks the known node closest to target that may be asked
// find_node now, and books it for discoverGap.
func (cs *crawlState) finderFor(target [20]byte, now time.Time) (krpc.NodeInfo, bool) {
	self := cs.c.ID()
	nodes := cs.c.Nodes()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	nodes = cs.knownLocked(nodes)
	var best krpc.NodeInfo
	var bestD [20]byte
	found := false
	for _, n := range nodes {
		key := n.Addr.String()
		if n.ID == self || n.Addr.Port == 0 || now.Before(cs.findAt[key]) {
			continue
		}
		if d := xor(n.ID, target); !found || bytes.Compare(d[:], bestD[:]) < 0 {
			best, bestD, found = n, d, true
		}
	}
	if !found {
		return krpc.NodeInfo{}, false
	}
	bookIn(cs.findAt, best.Addr.String(), now.Add(discoverGap), now)
	return best, true
}

// ask sends one sample_infohashes and takes in its samples and nodes.
func (cs *crawlState) ask(ctx context.Context, n krpc.NodeInfo, target [20]byte, in *intake) {
	cs.sent.Add(1)
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	a, err := cs.c.SampleInfohashes(qctx, n.Addr.UDP(), target)
	now := time.Now()
	if !cs.record(n.Addr.String(), a, err, now) {
		return
	}
	holder := n.Addr.String()
	for _, ih := range a.Samples {
		in.offerSample(ih, holder, now)
	}
}

// record books the node's next query from its answer (or failure), keeps
// the nodes it gave, and reports whether it answered with samples.
func (cs *crawlState) record(key string, a SampleAnswer, err error, now time.Time) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	switch {
	case errors.Is(err, errNoSamples):
		cs.book(key, now.Add(unsupportedGap), now)
		return false
	case err != nil:
		cs.book(key, now.Add(cs.failWait(key)), now)
		return false
	}
	delete(cs.fails, key)
	cs.answered.Add(1)
	wait := a.Interval
	if wait <= 0 {
		wait = defaultWait
	}
	cs.book(key, now.Add(max(wait, minInterval)), now)
	cs.keepLocked(a.Nodes)
	return true
}
