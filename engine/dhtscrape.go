package engine

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/anacrolix/dht/v2"
	"github.com/anacrolix/dht/v2/int160"
	"github.com/anacrolix/dht/v2/krpc"
)

// BEP 33 (DHT scrape). A node that supports it answers get_peers with
// scrape=1 by two 256-byte bloom filters of the IPs it holds for the
// torrent, seeds (BFsd) and downloaders (BFpe), instead of the peers
// themselves (libtorrent gives no values then). So a lookup first runs the
// ordinary traversal for peers, then asks the few nodes that answered with
// peers (the ones holding the swarm) once more with scrape=1, and ORs the
// filters they send: the union counts each IP once however many nodes hold
// it. Nodes without BEP 33 (anacrolix/dht) ignore the flag and add nothing;
// Shoal's own nodes answer it (dhtindex.Responder.Attach).

const (
	maxScrapeHolders = 8               // nodes asked for filters per lookup
	scrapeTimeout    = 2 * time.Second // for all of them together
)

// dhtScrape is the union of the scrape filters a lookup received.
type dhtScrape struct {
	seeds, downloaders krpc.ScrapeBloomFilter
	answers            int // nodes that sent at least one filter
}

// add ORs one node's answer into s and reports whether it carried a filter.
func (s *dhtScrape) add(r *krpc.Return) bool {
	if r == nil || (r.BFsd == nil && r.BFpe == nil) {
		return false
	}
	orFilter(&s.seeds, r.BFsd)
	orFilter(&s.downloaders, r.BFpe)
	s.answers++
	return true
}

// merge ORs another lookup's union (another DHT server's) into s.
func (s *dhtScrape) merge(o dhtScrape) {
	orFilter(&s.seeds, &o.seeds)
	orFilter(&s.downloaders, &o.downloaders)
	s.answers += o.answers
}

func orFilter(dst, src *krpc.ScrapeBloomFilter) {
	if src == nil {
		return
	}
	for i := range dst {
		dst[i] |= src[i]
	}
}

// counts estimates the distinct seed and downloader IPs; ok is false when
// no node answered the scrape.
func (s dhtScrape) counts() (seeds, downloaders int, ok bool) {
	if s.answers == 0 {
		return 0, 0, false
	}
	return estimate(&s.seeds), estimate(&s.downloaders), true
}

// estimate is BEP 33's count of a filter, rounded. An empty filter is 0:
// the formula (which caps the zero bits at m-1) gives it 0.5, which
// rounds to 1.
func estimate(f *krpc.ScrapeBloomFilter) int {
	if *f == (krpc.ScrapeBloomFilter{}) {
		return 0
	}
	return int(math.Round(f.EstimateCount()))
}

// holderSet collects the nodes that answered a traversal with peers.
type holderSet struct {
	addrs []krpc.NodeAddr
	seen  map[string]bool
}

func (h *holderSet) add(na krpc.NodeAddr) {
	if len(h.addrs) >= maxScrapeHolders || na.Port == 0 {
		return
	}
	if h.seen == nil {
		h.seen = map[string]bool{}
	}
	if k := na.String(); !h.seen[k] {
		h.seen[k] = true
		h.addrs = append(h.addrs, na)
	}
}

// scrapeHolders asks each holder for its scrape filters, all at once, and
// returns their union.
func scrapeHolders(ctx context.Context, s *dht.Server, ih [20]byte, holders []krpc.NodeAddr) dhtScrape {
	var out dhtScrape
	nodes := make([]serverNode, len(holders))
	for i, na := range holders {
		nodes[i] = serverNode{s, na}
	}
	getPeersEach(ctx, ih, scrapeTimeout, true, nodes, func(_ serverNode, r *krpc.Return) { out.add(r) })
	return out
}

// serverNode is a DHT node and the server (address family) to ask it on.
type serverNode struct {
	s  *dht.Server
	na krpc.NodeAddr
}

// getPeersEach sends one get_peers for ih (with BEP 33's scrape flag if
// scrape) to each node at once, waits at most timeout, and hands each
// answer to take, one at a time.
func getPeersEach(ctx context.Context, ih [20]byte, timeout time.Duration, scrape bool, nodes []serverNode, take func(serverNode, *krpc.Return)) {
	if len(nodes) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var mu sync.Mutex
	var wg sync.WaitGroup
	target := int160.FromByteArray(ih)
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := n.s.GetPeers(ctx, dht.NewAddr(n.na.UDP()), target, scrape, dht.QueryRateLimiting{})
			if res.Err != nil || res.Reply.R == nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			take(n, res.Reply.R)
		}()
	}
	wg.Wait()
}
