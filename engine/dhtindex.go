package engine

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"time"

	"github.com/shoalp2p/shoal/engine/dhtindex"
	"github.com/shoalp2p/shoal/engine/overlay"
)

// bep51 returns the node's BEP 51 responder, made on first use and shared
// by its DHT servers (one per address family), answering from ps. The
// get_peers and announce_peer queries it sees go to the DHT indexer while
// one runs.
func (e *Engine) bep51(ps *peerStore) *dhtindex.Responder {
	if e.responder == nil {
		e.responder = dhtindex.NewResponder(dhtindex.ResponderConfig{
			Source: ps,
			Observe: func(q dhtindex.Query) {
				if ix := e.indexer.Load(); ix != nil {
					ix.Offer(q)
				}
			},
			Logger: e.log.With("part", "bep51"),
		})
	}
	return e.responder
}

// dhtIndexSettings is what the indexer is built from; a change restarts it.
type dhtIndexSettings struct {
	on        bool
	crawlRate int
	maxIndex  int
}

func (e *Engine) dhtIndexWanted() dhtIndexSettings {
	s := e.Settings()
	w := dhtIndexSettings{on: s.IndexDHT && e.sn != nil && e.sn.Active(),
		crawlRate: s.CrawlRate, maxIndex: s.DHTIndexCap}
	if w.crawlRate <= 0 {
		w.crawlRate = dhtindex.DefaultCrawlRate
	}
	if w.maxIndex <= 0 {
		w.maxIndex = dhtindex.DefaultMaxEntries
	}
	return w
}

// dhtIndexLoop runs the DHT indexer while the node is a supernode and the
// setting is on, restarting it when the role or the settings change (both
// wake it: it does not poll).
func (e *Engine) dhtIndexLoop(ctx context.Context) error {
	var cur *indexerRun
	defer func() { cur.halt(e) }()
	for {
		want := e.dhtIndexWanted()
		if cur == nil || want != cur.with {
			cur.halt(e)
			cur = e.startIndexer(ctx, want)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.sn.RoleChanged():
		case <-e.settingsKick:
		}
	}
}

// indexerRun is one running indexer (or, with with.on false, none).
type indexerRun struct {
	with   dhtIndexSettings
	cancel context.CancelFunc
	done   chan struct{}
}

func (e *Engine) startIndexer(ctx context.Context, w dhtIndexSettings) *indexerRun {
	r := &indexerRun{with: w, cancel: func() {}, done: make(chan struct{})}
	if !w.on {
		close(r.done)
		return r
	}
	ix := e.newIndexer(w)
	ictx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	e.indexer.Store(ix)
	go func() {
		defer close(r.done)
		ix.Run(ictx)
	}()
	return r
}

// halt stops the run, if any, and waits for it.
func (r *indexerRun) halt(e *Engine) {
	if r == nil {
		return
	}
	e.indexer.Store(nil)
	r.cancel()
	<-r.done
}

// indexerSettle is how long the indexer's get_peers traversal goes on
// after it first found peers: the closest nodes, which hold the swarm,
// answer together, and waiting out the slowest queries (resends to nodes
// that left) held each metadata fetch back for seconds.
const indexerSettle = time.Second

// newIndexer builds the indexer over the DHT server and the supernode's
// index. On loopback every peer has the same IP, so the per-IP caps
// (meant for the Internet) are lifted there.
func (e *Engine) newIndexer(w dhtIndexSettings) *dhtindex.Indexer {
	cfg := dhtindex.IndexerConfig{
		Crawl: dhtindex.ServerCrawler{S: e.dht},
		FindPeers: func(ctx context.Context, ih [20]byte, holders []string) dhtindex.Swarm {
			sw := e.findSwarm(ctx, ih, holders)
			if len(sw.peers) == 0 {
				e.log.Debug("DHT lookup found nobody", "part", "dhtindex", "infohash", hex.EncodeToString(ih[:]),
					"table", sw.tableNodes, "queried", sw.queried)
			}
			seeds, downloaders, ok := sw.scrape.counts()
			return dhtindex.Swarm{Peers: sw.peers, Scraped: ok, Seeds: seeds, Downloaders: downloaders}
		},
		Dial:   e.policy.Dial,
		PeerID: e.peerID,
		Sink:   indexSink{sn: e.sn, max: w.maxIndex},
		// Supernodes announce themselves under supernodeKey: a lookup
		// finds Shoal nodes that hold no torrent by that name.
		Ignore:    [][20]byte{supernodeKey},
		CrawlRate: float64(w.crawlRate),
		Region:    e.crawlRegion,
		// Time for the overlay's adverts to name the other supernodes.
		CrawlDelay: 20 * time.Second,
		Logger:     e.log.With("part", "dhtindex"),
	}
	if e.cfg.LoopbackOnly {
		cfg.IntakePerIP, cfg.FetchesPerIP = 1<<20, 1<<20
	}
	return dhtindex.NewIndexer(cfg)
}

// crawlRegion is the crawl's share of the keyspace: supernodes learn each
// other's overlay addresses from adverts (not their DHT node IDs), so each
// one's position is a hash of its overlay address, and each crawls the
// IDs closer to its own position than to any other known supernode's.
func (e *Engine) crawlRegion() ([20]byte, [][20]byte) {
	self := regionPos(e.sn.Addr())
	known := e.sn.KnownAdverts()
	others := make([][20]byte, 0, len(known))
	for addr := range known {
		others = append(others, regionPos(addr))
	}
	return self, others
}

func regionPos(addr string) [20]byte { return sha1.Sum([]byte("shoal crawl region\x00" + addr)) }

// indexSink puts verified DHT torrents into the supernode's search index.
type indexSink struct {
	sn  *overlay.Supernode
	max int
}

// Touch implements dhtindex.Sink.
func (s indexSink) Touch(ctx context.Context, ih [20]byte, h dhtindex.Health) (bool, error) {
	return s.sn.TouchDHT(ctx, dhtEntryOf(overlay.Entry{InfoHash: ih}, h))
}

// Index implements dhtindex.Sink.
func (s indexSink) Index(ctx context.Context, t dhtindex.Torrent, h dhtindex.Health) error {
	e := overlay.Entry{InfoHash: t.InfoHash, Name: t.Name, Size: t.Size, Files: t.Files}
	return s.sn.IndexDHT(ctx, []overlay.DHTEntry{dhtEntryOf(e, h)}, s.max)
}

func dhtEntryOf(e overlay.Entry, h dhtindex.Health) overlay.DHTEntry {
	return overlay.DHTEntry{Entry: e, Swarm: h.Peers, Scraped: h.Scraped, Seeds: h.Seeds, Leechers: h.Leechers}
}

// Expire implements dhtindex.Sink.
func (s indexSink) Expire(ctx context.Context, cutoff time.Time) error {
	_, err := s.sn.ExpireDHT(ctx, cutoff)
	return err
}

// DHTIndexed lists the infohashes this node's search index holds from the
// DHT (kept across restarts and role changes).
func (e *Engine) DHTIndexed(ctx context.Context) ([][20]byte, error) {
	if e.sn == nil {
		return nil, nil
	}
	return e.sn.DHTInfohashes(ctx)
}

// DHTCrawled lists the DHT nodes the running indexer's BEP 51 crawl has
// asked (nil when no indexer runs).
func (e *Engine) DHTCrawled() []string {
	if ix := e.indexer.Load(); ix != nil {
		return ix.Crawled()
	}
	return nil
}

// DHTIndexStats reports the DHT indexer's counters, and whether it runs
// (only on a supernode with Settings.IndexDHT on).
func (e *Engine) DHTIndexStats() (dhtindex.Stats, bool) {
	ix := e.indexer.Load()
	if ix == nil {
		return dhtindex.Stats{}, false
	}
	return ix.Stats(), true
}
