package dhtindex

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of IndexerConfig.
const (
	DefaultCrawlRate    = 50 // sample_infohashes queries per second
	DefaultFetchers     = 4
	DefaultIntakePerIP  = 50 // infohashes per announcing IP per minute
	DefaultFetchesPerIP = 20 // metadata fetches per peer IP per minute
	DefaultExpireAfter  = 48 * time.Hour
	DefaultMaxEntries   = 100_000
	peersPerFetch       = 3 // peers tried for one torrent's metadata
)

// Sink is where verified torrents go: the supernode's search index.
type Sink interface {
	// Touch records a fresh look at ih's swarm and reports whether ih is
	// already indexed.
	Touch(ctx context.Context, ih [20]byte, h Health) (bool, error)
	// Index adds a torrent whose metadata hashed to its infohash.
	Index(ctx context.Context, t Torrent, h Health) error
	// Expire drops entries whose swarm has been empty since cutoff.
	Expire(ctx context.Context, cutoff time.Time) error
}

// Swarm is what a get_peers lookup found of a torrent's swarm.
type Swarm struct {
	Peers []string // BitTorrent peers, host:port
	// Scraped is set when nodes holding the swarm answered a BEP 33
	// scrape: Seeds and Downloaders are then the distinct IPs their
	// filters estimate (BEP 33's formula over the union of the filters).
	Scraped            bool
	Seeds, Downloaders int
}

// Health is what the indexer records of a torrent's swarm.
type Health struct {
	// Peers is the swarm's size: the peers the lookup found (and the
	// announces heard), or the scraped count if that is larger.
	Peers int
	// Scraped is set when a BEP 33 scrape counted the swarm; Seeds and
	// Leechers are then its estimates. Unset, they are unknown.
	Scraped         bool
	Seeds, Leechers int
}

// healthOf is the health of a swarm of which peers are known, with what
// the lookup found.
func healthOf(peers int, found Swarm) Health {
	h := Health{Peers: peers}
	if found.Scraped {
		h.Scraped, h.Seeds, h.Leechers = true, found.Seeds, found.Downloaders
		h.Peers = max(h.Peers, found.Seeds+found.Downloaders)
	}
	return h
}

// IndexerConfig sets up an Indexer.
type IndexerConfig struct {
	// Crawl is the DHT side: sample_infohashes queries and get_peers
	// traversals. Nil disables the BEP 51 crawl (the indexer still takes
	// what Offer gives it).
	Crawl Crawler
	// FindPeers runs a get_peers traversal and returns what it found of
	// ih's swarm. holders (UDP host:port, maybe none) are DHT nodes whose
	// BEP 51 samples named ih: it asks them directly too.
	FindPeers func(ctx context.Context, ih [20]byte, holders []string) Swarm
	Dial      Dialer
	PeerID    [20]byte
	Sink      Sink
	// Ignore lists keys that are not torrents (the engine's own DHT
	// rendezvous keys): offered or sampled, they are never looked up.
	Ignore [][20]byte

	CrawlRate    float64       // sample_infohashes per second, default 50
	Fetchers     int           // concurrent metadata fetches, default 4
	MaxMetadata  int           // bytes, default DefaultMaxMetadata
	IntakePerIP  int           // default DefaultIntakePerIP
	FetchesPerIP int           // default DefaultFetchesPerIP
	ExpireAfter  time.Duration // default 48 h
	// PrefixBits is how many leading bits of our node ID the crawl's
	// targets share, when Region is nil.
	PrefixBits int
	// Region, when set, splits the keyspace between the supernodes that
	// crawl: it returns our position in the keyspace and the positions of
	// the other crawling supernodes, and the crawl's targets are IDs
	// closer (XOR) to ours than to any other. N supernodes then ask
	// disjoint sets of nodes, and together cover the whole keyspace.
	Region func() (self [20]byte, others [][20]byte)
	// CrawlDelay holds the BEP 51 crawl back after Run starts, so that a
	// new supernode learns the others (and so its Region) before it asks
	// anyone; what it hears meanwhile is still taken in.
	CrawlDelay time.Duration
	Logger     *slog.Logger
}

func (c *IndexerConfig) setDefaults() {
	if c.CrawlRate <= 0 {
		c.CrawlRate = DefaultCrawlRate
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.Fetchers, DefaultFetchers)
	def(&c.MaxMetadata, DefaultMaxMetadata)
	def(&c.IntakePerIP, DefaultIntakePerIP)
	def(&c.FetchesPerIP, DefaultFetchesPerIP)
	if c.ExpireAfter <= 0 {
		c.ExpireAfter = DefaultExpireAfter
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Stats are an indexer's counters since it started.
type Stats struct {
	Offered, RefusedIP, RefusedFull int64 // infohashes offered; refused by per-IP cap or full queue
	Pending                         int   // waiting for get_peers / BEP 9
	Evicted                         int64 // retries dropped from a full queue for fresher infohashes
	NoPeers                         int64 // dropped: get_peers found nobody
	Fetched, FetchFailed, Refreshed int64 // metadata verified; every peer failed; already indexed
	Indexed                         int64 // handed to the index
	SampleQueries, SampleAnswers    int64 // BEP 51 queries sent; answers with samples
	NodeQueries                     int64 // find_node queries the crawl sent to learn nodes (within the same budget)
}

// Indexer turns infohashes seen on the DHT into verified index entries.
// Create it with NewIndexer; Offer may be called from the DHT's receive
// path; Run does the work.
type Indexer struct {
	cfg IndexerConfig
	in  *intake

	fetchMu    sync.Mutex
	fetchCount map[string]int
	fetchSince time.Time

	noPeers, fetched, fetchFailed, refreshed, indexed atomic.Int64
	crawl                                             *crawlState
}

// NewIndexer returns an indexer; nothing runs until Run.
func NewIndexer(cfg IndexerConfig) *Indexer {
	cfg.setDefaults()
	ix := &Indexer{cfg: cfg, in: newIntake(cfg.IntakePerIP, cfg.Ignore...), fetchCount: make(map[string]int)}
	if cfg.Crawl != nil {
		ix.crawl = newCrawlState(cfg)
	}
	return ix
}

// Offer takes an infohash seen in a query this node received. It never
// blocks.
func (ix *Indexer) Offer(q Query) {
	ix.in.offer(q.InfoHash, q.From.String(), q.Peer, time.Now())
}

// Stats returns the counters.
func (ix *Indexer) Stats() Stats {
	ix.in.mu.Lock()
	st := Stats{Offered: ix.in.offered, RefusedIP: ix.in.refusedIP, RefusedFull: ix.in.refusedFull, Pending: len(ix.in.pending),
		Evicted: ix.in.evicted}
	ix.in.mu.Unlock()
	st.NoPeers, st.Fetched, st.FetchFailed = ix.noPeers.Load(), ix.fetched.Load(), ix.fetchFailed.Load()
	st.Refreshed, st.Indexed = ix.refreshed.Load(), ix.indexed.Load()
	if ix.crawl != nil {
		st.SampleQueries, st.SampleAnswers = ix.crawl.sent.Load(), ix.crawl.answered.Load()
		st.NodeQueries = ix.crawl.finds.Load()
	}
	return st
}

// Crawled returns the addresses of the DHT nodes the BEP 51 crawl has
// asked (at most the last 50,000), for measuring how supernodes share out
// the keyspace.
func (ix *Indexer) Crawled() []string {
	if ix.crawl == nil {
		return nil
	}
	ix.crawl.mu.Lock()
	defer ix.crawl.mu.Unlock()
	out := make([]string, 0, len(ix.crawl.nextAt))
	for k := range ix.crawl.nextAt {
		out = append(out, k)
	}
	return out
}

// Run crawls, fetches and expires until ctx ends.
func (ix *Indexer) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range ix.cfg.Fetchers {
		wg.Go(func() { ix.fetchLoop(ctx) })
	}
	if ix.crawl != nil {
		wg.Go(func() {
			select {
			case <-ctx.Done():
				return
			case <-time.After(ix.cfg.CrawlDelay):
			}
			ix.crawl.run(ctx, ix.in)
		})
	}
	wg.Go(func() { ix.expireLoop(ctx) })
	wg.Wait()
	return nil
}

func (ix *Indexer) expireLoop(ctx context.Context) {
	tick := time.NewTicker(min(ix.cfg.ExpireAfter/4, 10*time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if err := ix.cfg.Sink.Expire(ctx, now.Add(-ix.cfg.ExpireAfter)); err != nil && ctx.Err() == nil {
				ix.cfg.Logger.Warn("expire DHT entries", "err", err)
			}
		}
	}
}

func (ix *Indexer) fetchLoop(ctx context.Context) {
	for {
		c, ok := ix.in.next()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-ix.in.wake:
				continue
			case <-time.After(time.Second):
				continue
			}
		}
		peers, noPeers, failed := ix.handle(ctx, c)
		ix.in.done(c.ih, noPeers, failed, peers, time.Now())
		if ctx.Err() != nil {
			return
		}
	}
}

// handle looks a candidate up: its swarm with get_peers, then (unless it
// is indexed already) its metadata from a few peers. It returns the peers
// it knew of, and reports whether nobody was found, and whether peers
// were found but none gave the metadata.
func (ix *Indexer) handle(ctx context.Context, c *candidate) (peers []string, noPeers, failed bool) {
	peers = slices.Clone(c.peers)
	t0 := time.Now()
	defer func() {
		ix.cfg.Logger.Debug("DHT candidate handled", "infohash", hexOf(c.ih), "took", time.Since(t0), "waited", t0.Sub(c.at), "announced", len(c.peers), "peers", len(peers), "noPeers", noPeers, "failed", failed)
	}()
	var found Swarm
	if ix.cfg.FindPeers != nil {
		found = ix.cfg.FindPeers(ctx, c.ih, c.holders)
		for _, p := range found.Peers {
			if !slices.Contains(peers, p) {
				peers = append(peers, p)
			}
		}
	}
	swarm := healthOf(len(peers), found)
	indexed, err := ix.cfg.Sink.Touch(ctx, c.ih, swarm)
	if err != nil {
		ix.cfg.Logger.Warn("touch DHT entry", "err", err)
		return peers, false, false
	}
	switch {
	case indexed:
		ix.refreshed.Add(1)
		return peers, false, false
	case len(peers) == 0:
		ix.noPeers.Add(1)
		ix.cfg.Logger.Debug("DHT infohash without peers", "infohash", hexOf(c.ih))
		return peers, true, false
	}
	info := ix.fetchAny(ctx, c.ih, peers)
	if info == nil {
		ix.fetchFailed.Add(1)
		ix.cfg.Logger.Debug("DHT metadata not fetched", "infohash", hexOf(c.ih), "peers", len(peers))
		return peers, false, true
	}
	ix.fetched.Add(1)
	t, err := ParseInfo(c.ih, info)
	if err != nil {
		ix.cfg.Logger.Debug("unusable metadata", "infohash", hexOf(c.ih), "err", err)
		return peers, false, false
	}
	if err := ix.cfg.Sink.Index(ctx, t, swarm); err != nil {
		ix.cfg.Logger.Warn("index DHT torrent", "err", err)
		return peers, false, false
	}
	ix.indexed.Add(1)
	ix.cfg.Logger.Info("DHT torrent indexed", "infohash", hexOf(c.ih), "name", t.Name, "swarm", swarm.Peers,
		"scraped", swarm.Scraped, "seeds", swarm.Seeds, "leechers", swarm.Leechers)
	return peers, false, false
}

func hexOf(ih [20]byte) string { return fmt.Sprintf("%x", ih) }

// fetchAny tries up to peersPerFetch peers (within their per-IP caps) and
// returns the first verified info dictionary.
func (ix *Indexer) fetchAny(ctx context.Context, ih [20]byte, peers []string) []byte {
	tried := 0
	for _, p := range peers {
		if tried == peersPerFetch || ctx.Err() != nil {
			break
		}
		if !ix.allowFetch(p, time.Now()) {
			continue
		}
		tried++
		b, err := FetchMetadata(ctx, ix.cfg.Dial, p, ih, ix.cfg.PeerID, ix.cfg.MaxMetadata)
		if err == nil {
			return b
		}
		ix.cfg.Logger.Debug("metadata fetch", "peer", p, "err", err)
	}
	return nil
}

// allowFetch counts one fetch from addr's IP and reports whether it is
// within FetchesPerIP this minute.
func (ix *Indexer) allowFetch(addr string, now time.Time) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	ix.fetchMu.Lock()
	defer ix.fetchMu.Unlock()
	if now.Sub(ix.fetchSince) >= ipWindow {
		clear(ix.fetchCount)
		ix.fetchSince = now
	}
	n, seen := ix.fetchCount[host]
	if !seen && len(ix.fetchCount) >= maxIPs || n >= ix.cfg.FetchesPerIP {
		return false
	}
	ix.fetchCount[host] = n + 1
	return true
}
