package enginebench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anacrolix/torrent/bencode"
	"github.com/anacrolix/torrent/metainfo"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/internal/bench"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// DHTSimConfig sizes a loopback BitTorrent DHT for the DHT indexer: many
// Shoal DHT nodes, a few Shoal supernodes that index it, real seeders
// (aria2, python3-libtorrent, a Shoal engine) serving some torrents, and
// announces alone for the rest.
type DHTSimConfig struct {
	DHTNodes   int // Shoal DHT nodes (engine.DHTNode)
	Supernodes int // Shoal engines forced supernode, indexing the DHT
	Torrents   int // announced in all
	Seeded     int // of which seeded for real (BEP 9 can fetch them)
	Aria2      int // of the seeded, how many aria2 seeds (one process)
	Libtorrent int // ... python3-libtorrent seeds (one session); the rest a Shoal engine
	CrawlRate  int // sample_infohashes per second per supernode (the budget)
	// SampleInterval is the BEP 51 "interval" the DHT nodes answer (0:
	// dhtindex.DefaultInterval, as engines answer); supernodes honour it.
	SampleInterval time.Duration
	// Window is how long indexing may take; Measure stops earlier once
	// every seeded torrent is indexed.
	Window  time.Duration
	Queries int // searches for indexed names (0: one per indexed torrent)
	Logf    func(format string, args ...any)
}

// DHTSimReport is what one run measured.
type DHTSimReport struct {
	DHTNodes, Supernodes, Torrents, Seeded int
	SeededBy                               map[string]int // seeder kind -> torrents
	IndexedBy                              map[string]int // seeder kind -> torrents indexed
	Indexed                                int            // seeded torrents indexed by some supernode
	IndexedAt                              []time.Duration
	T50, T95                               time.Duration // when 50% and 95% of the seeded were indexed (-1: never)
	Elapsed                                time.Duration // from the first announce to the end of the window
	// Unverified counts entries that no seeder served (announce-only
	// infohashes) or whose name or size differ from the torrent's.
	Unverified int
	Queries    int // searches for indexed names, from a leaf
	Found      int // of which returned the torrent as a DHT hit
	Missed     []string
	// FoundRetry counts missed torrents a second search (10 s) found.
	FoundRetry int
	FirstP50   time.Duration
	FirstP95   time.Duration
	CrawlRates []float64 // crawl queries (sample_infohashes and find_node) per second at each supernode
	Budget     int
	Crawled    []int // distinct DHT nodes each supernode asked
	// CrawledUnion is how many distinct nodes were asked by any
	// supernode; Overlap is the share of those asked by more than one.
	CrawledUnion int
	Overlap      float64
	Offered      []int64 // infohashes each supernode's indexer took in
	NoPeers      []int64 // ... found without peers
	FetchFailed  []int64 // ... whose metadata no peer gave
}

// Recall is Found / Queries.
func (r DHTSimReport) Recall() float64 {
	if r.Queries == 0 {
		return 1
	}
	return float64(r.Found) / float64(r.Queries)
}

// IndexedShare is Indexed / Seeded.
func (r DHTSimReport) IndexedShare() float64 {
	if r.Seeded == 0 {
		return 1
	}
	return float64(r.Indexed) / float64(r.Seeded)
}

// String formats the report.
func (r DHTSimReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "DHT of %d Shoal DHT nodes + %d supernodes (+ seeders and a searching leaf); %d torrents announced, %d seeded for real %v\n",
		r.DHTNodes, r.Supernodes, r.Torrents, r.Seeded, r.SeededBy)
	fmt.Fprintf(&b, "  indexed %d/%d seeded (%.1f%%) in %v, by seeder %v; 50%% after %s, 95%% after %s\n",
		r.Indexed, r.Seeded, 100*r.IndexedShare(), r.Elapsed.Round(time.Second), r.IndexedBy, when(r.T50), when(r.T95))
	fmt.Fprintf(&b, "  indexed without verified metadata (announce-only, or name/size not the torrent's): %d\n", r.Unverified)
	fmt.Fprintf(&b, "  search from a leaf over indexed names: recall %.4f (%d/%d); first hit p50 %v p95 %v\n",
		r.Recall(), r.Found, r.Queries, r.FirstP50.Round(time.Millisecond/10), r.FirstP95.Round(time.Millisecond/10))
	if len(r.Missed) > 0 {
		fmt.Fprintf(&b, "  not found: %q (a second search found %d of them)\n", r.Missed, r.FoundRetry)
	}
	rates := make([]string, len(r.CrawlRates))
	for i, v := range r.CrawlRates {
		rates[i] = fmt.Sprintf("%.2f", v)
	}
	fmt.Fprintf(&b, "  crawl rate per supernode (sample_infohashes + find_node per s, budget %d): %s\n", r.Budget, strings.Join(rates, " "))
	fmt.Fprintf(&b, "  DHT nodes crawled per supernode %v; %d distinct; asked by more than one supernode: %.1f%%\n", r.Crawled, r.CrawledUnion, 100*r.Overlap)
	fmt.Fprintf(&b, "  per supernode: infohashes taken in %v, without peers %v, metadata failed %v\n", r.Offered, r.NoPeers, r.FetchFailed)
	return b.String()
}

func when(d time.Duration) string {
	if d < 0 {
		return "never"
	}
	return d.Round(time.Second).String()
}

// simTorrent is one announced torrent.
type simTorrent struct {
	ih   [20]byte
	name string
	size int64
	by   string // "aria2", "libtorrent", "shoal", or "" (announced only)
	word string // its unique search word
}

// DHTSim is a running simulation.
type DHTSim struct {
	t        testing.TB
	cfg      DHTSimConfig
	nodes    []*engine.DHTNode
	supers   []*enginetest.Node
	leaf     *enginetest.Node
	seeder   *enginetest.Node
	torrents []simTorrent
	ports    []int // listening BitTorrent ports announced for the torrents nobody seeds
	start    time.Time
}

func (s *DHTSim) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// StartDHTSim builds the DHT, the supernodes, the seeders and the
// announces. Everything stops when the test ends. Real clients missing
// here return an error wrapping peerclients.ErrNotInstalled.
func StartDHTSim(t testing.TB, cfg DHTSimConfig) (*DHTSim, error) {
	s := &DHTSim{t: t, cfg: cfg}
	if err := s.startNodes(); err != nil {
		return nil, err
	}
	boot := s.bootAddrs(4)
	for i := range cfg.Supernodes {
		c := enginetest.Config(t, boot...)
		c.Listen = simSupernodeListen(i)
		c.Supernode = true
		n := enginetest.Start(t, c)
		st := n.Settings()
		st.IndexDHT, st.CrawlRate = true, cfg.CrawlRate
		if err := n.SetSettings(st); err != nil {
			return nil, fmt.Errorf("dhtsim: supernode settings: %w", err)
		}
		s.supers = append(s.supers, n)
	}
	lc := enginetest.Config(t, boot...)
	lc.Listen = "127.0.3.1:0"
	lc.Leaf = true
	s.leaf = enginetest.Start(t, lc)
	sc := enginetest.Config(t, boot...)
	sc.Leaf = true
	s.seeder = enginetest.Start(t, sc)
	s.logf("dhtsim: %d DHT nodes, %d supernodes, a leaf and a Shoal seeder up", len(s.nodes), len(s.supers))
	if err := s.makeTorrents(); err != nil {
		return nil, err
	}
	return s, nil
}

// simSupernodeListen is supernode i's listen address: each has its own
// loopback address (127.0.0.0/8 is all loopback on Linux), as each would
// have its own IP on the Internet, so a seeder tells their connections
// apart by IP. The DHT nodes and the seeders stay on 127.0.0.1: an
// announce names the announcing node's IP, and the announce-only
// torrents are announced for the seeders' listening ports.
func simSupernodeListen(i int) string { return fmt.Sprintf("127.0.2.%d:0", i+1) }

// startNodes starts the DHT nodes, each joining through a few earlier ones,
// and fills their routing tables.
func (s *DHTSim) startNodes() error {
	for i := range s.cfg.DHTNodes {
		var boot []string
		for range min(i, 3) {
			boot = append(boot, s.nodes[mrand.IntN(i)].Addr())
		}
		n, err := engine.StartDHTNode(engine.DHTNodeConfig{Bootstrap: boot, SampleInterval: s.cfg.SampleInterval})
		if err != nil {
			return err
		}
		s.t.Cleanup(n.Close)
		s.nodes = append(s.nodes, n)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, n := range s.nodes {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			n.Bootstrap()
		})
	}
	wg.Wait()
	// A second pass: the early nodes bootstrapped before the later ones
	// existed.
	for _, n := range s.nodes[:min(len(s.nodes), 32)] {
		n.Bootstrap()
	}
	return nil
}

// bootAddrs picks k DHT node addresses at random.
func (s *DHTSim) bootAddrs(k int) []string {
	var out []string
	for _, i := range mrand.Perm(len(s.nodes))[:min(k, len(s.nodes))] {
		out = append(out, s.nodes[i].Addr())
	}
	return out
}

var simWords = strings.Fields(`amber basalt cedar delta ember fjord glacier harbor indigo juniper
	kestrel lagoon meadow nectar orchid prairie quartz raven sierra tundra umber
	valley willow xylem yarrow zephyr`)

// uniqWord is a letters-only word unique to i (FTS5 splits at digits).
func uniqWord(i int) string {
	b := []byte("qz")
	for {
		b = append(b, byte('a'+i%26))
		i /= 26
		if i == 0 {
			return string(b)
		}
	}
}

// makeTorrents writes the seeded torrents' content and .torrent files and
// starts their seeders, then announces the rest from the DHT nodes.
func (s *DHTSim) makeTorrents() error {
	dir := s.t.TempDir()
	var aria, lib []string
	for i := range s.cfg.Torrents {
		tor := simTorrent{word: uniqWord(i)}
		tor.name = fmt.Sprintf("%s %s %s", simWords[i%len(simWords)], simWords[(i/len(simWords)+7)%len(simWords)], tor.word)
		if i >= s.cfg.Seeded {
			rand.Read(tor.ih[:])
			s.torrents = append(s.torrents, tor)
			continue
		}
		switch {
		case i < s.cfg.Aria2:
			tor.by = "aria2"
		case i < s.cfg.Aria2+s.cfg.Libtorrent:
			tor.by = "libtorrent"
		default:
			tor.by = "shoal"
		}
		path := filepath.Join(dir, tor.by, tor.name)
		tor.size = 16<<10 + int64(i)
		enginetest.RandomFile(s.t, filepath.Dir(path), tor.name, int(tor.size))
		switch tor.by {
		case "shoal":
			ih, err := s.seeder.ShareSync(context.Background(), path, nil)
			if err != nil {
				return fmt.Errorf("dhtsim: share: %w", err)
			}
			tor.ih = [20]byte(ih)
		default:
			tf := filepath.Join(dir, tor.by+".torrents", tor.word+".torrent")
			ih, err := writeSimTorrent(path, tf)
			if err != nil {
				return err
			}
			tor.ih = ih
			if tor.by == "aria2" {
				aria = append(aria, tf)
			} else {
				lib = append(lib, tf)
			}
		}
		s.torrents = append(s.torrents, tor)
	}
	if len(aria) > 0 {
		a, err := peerclients.StartAria2DHTSeedingMany(s.t, aria, filepath.Join(dir, "aria2"), s.nodes[mrand.IntN(len(s.nodes))].Addr())
		if err != nil {
			return fmt.Errorf("dhtsim: aria2: %w", err)
		}
		s.ports = append(s.ports, portOf(a.PeerAddr))
	}
	if len(lib) > 0 {
		l, err := peerclients.StartLibtorrentDHTSeedingMany(s.t, lib, filepath.Join(dir, "libtorrent"), s.nodes[mrand.IntN(len(s.nodes))].Addr())
		if err != nil {
			return fmt.Errorf("dhtsim: libtorrent: %w", err)
		}
		s.ports = append(s.ports, portOf(l.PeerAddr))
	}
	s.ports = append(s.ports, portOf(s.seeder.PeerAddr()))
	s.logf("dhtsim: %d torrents seeded (aria2 %d, libtorrent %d, shoal %d)", s.cfg.Seeded, len(aria), len(lib), s.cfg.Seeded-len(aria)-len(lib))
	return nil
}

// writeSimTorrent makes a trackerless .torrent of the file at path.
func writeSimTorrent(path, out string) ([20]byte, error) {
	info := metainfo.Info{PieceLength: 16 << 10}
	if err := info.BuildFromFilePath(path); err != nil {
		return [20]byte{}, fmt.Errorf("dhtsim: torrent of %s: %w", path, err)
	}
	b, err := bencode.Marshal(info)
	if err != nil {
		return [20]byte{}, fmt.Errorf("dhtsim: torrent: %w", err)
	}
	mi := metainfo.MetaInfo{InfoBytes: b}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return [20]byte{}, fmt.Errorf("dhtsim: torrent: %w", err)
	}
	f, err := os.Create(out)
	if err != nil {
		return [20]byte{}, fmt.Errorf("dhtsim: torrent: %w", err)
	}
	defer f.Close()
	if err := mi.Write(f); err != nil {
		return [20]byte{}, fmt.Errorf("dhtsim: torrent: %w", err)
	}
	return mi.HashInfoBytes(), nil
}

func portOf(hostport string) int {
	var port int
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 {
		fmt.Sscan(hostport[i+1:], &port)
	}
	return port
}

// announce sends the announce-only torrents into the DHT from random DHT
// nodes, each naming a listening BitTorrent port (a seeder's) that does not
// have it, so that every metadata fetch for them fails.
func (s *DHTSim) announce(ctx context.Context) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 24)
	for _, tor := range s.torrents {
		if tor.by != "" {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			n := s.nodes[mrand.IntN(len(s.nodes))]
			n.Announce(ctx, tor.ih, s.ports[mrand.IntN(len(s.ports))])
		})
	}
	wg.Wait()
}

// Measure announces the rest, then watches the supernodes' indexes until
// every seeded torrent is indexed or the window ends, then searches for
// the indexed names from the leaf.
func (s *DHTSim) Measure(ctx context.Context) (DHTSimReport, error) {
	r := DHTSimReport{DHTNodes: len(s.nodes), Supernodes: len(s.supers), Torrents: len(s.torrents),
		Seeded: s.cfg.Seeded, Budget: s.cfg.CrawlRate, SeededBy: map[string]int{}, IndexedBy: map[string]int{}}
	byIH := make(map[[20]byte]*simTorrent, len(s.torrents))
	for i := range s.torrents {
		byIH[s.torrents[i].ih] = &s.torrents[i]
		if by := s.torrents[i].by; by != "" {
			r.SeededBy[by]++
		}
	}
	s.start = time.Now()
	annDone := make(chan struct{})
	go func() {
		defer close(annDone)
		s.announce(ctx)
		s.logf("dhtsim: %d announce-only torrents announced after %v", len(s.torrents)-s.cfg.Seeded, time.Since(s.start).Round(time.Second))
	}()
	indexedAt := map[[20]byte]time.Duration{}
	bad := map[[20]byte]bool{}
	lastLog := time.Now()
	for {
		for _, sn := range s.supers {
			hashes, err := sn.DHTIndexed(ctx)
			if err != nil {
				return r, err
			}
			for _, ih := range hashes {
				tor := byIH[ih]
				switch {
				case tor == nil || tor.by == "":
					bad[ih] = true
				default:
					if _, ok := indexedAt[ih]; !ok {
						indexedAt[ih] = time.Since(s.start)
					}
				}
			}
		}
		if len(indexedAt) == s.cfg.Seeded || time.Since(s.start) >= s.cfg.Window || ctx.Err() != nil {
			break
		}
		if time.Since(lastLog) >= 15*time.Second {
			lastLog = time.Now()
			s.logProgress(indexedAt)
		}
		time.Sleep(2 * time.Second)
	}
	r.Elapsed = time.Since(s.start)
	<-annDone
	for ih, at := range indexedAt {
		r.IndexedAt = append(r.IndexedAt, at)
		r.IndexedBy[byIH[ih].by]++
	}
	slices.Sort(r.IndexedAt)
	r.Indexed = len(indexedAt)
	r.T50, r.T95 = timeToShare(r.IndexedAt, s.cfg.Seeded, 0.5), timeToShare(r.IndexedAt, s.cfg.Seeded, 0.95)
	s.crawlFigures(&r)
	var indexed []*simTorrent
	for ih := range indexedAt {
		indexed = append(indexed, byIH[ih])
	}
	r.Unverified = len(bad)
	if err := s.search(ctx, &r, indexed); err != nil {
		return r, err
	}
	return r, nil
}

// logProgress logs how many seeded torrents are indexed so far and each
// supernode's indexer counters.
func (s *DHTSim) logProgress(indexed map[[20]byte]time.Duration) {
	var b strings.Builder
	var missing []string
	for _, tor := range s.torrents {
		if _, ok := indexed[tor.ih]; tor.by != "" && !ok {
			missing = append(missing, fmt.Sprintf("%s %x", tor.by, tor.ih[:4]))
		}
	}
	if len(missing) <= 10 {
		fmt.Fprintf(&b, "\n  not yet: %s", strings.Join(missing, ", "))
	}
	for i, sn := range s.supers {
		st, _ := sn.DHTIndexStats()
		fmt.Fprintf(&b, "\n  supernode %d: offered %d pending %d no-peers %d fetched %d failed %d indexed %d; sample queries %d answers %d; find_node %d",
			i, st.Offered, st.Pending, st.NoPeers, st.Fetched, st.FetchFailed, st.Indexed, st.SampleQueries, st.SampleAnswers, st.NodeQueries)
	}
	s.logf("dhtsim: %v: %d/%d seeded torrents indexed%s", time.Since(s.start).Round(time.Second), len(indexed), s.cfg.Seeded, b.String())
}

// timeToShare is when share of total were indexed (-1: never).
func timeToShare(at []time.Duration, total int, share float64) time.Duration {
	need := int(float64(total)*share + 0.999999)
	if need == 0 {
		return 0
	}
	if len(at) < need {
		return -1
	}
	return at[need-1]
}

// crawlFigures reads each supernode's crawl counters and crawled nodes.
func (s *DHTSim) crawlFigures(r *DHTSimReport) {
	asked := map[string]int{}
	for _, sn := range s.supers {
		st, _ := sn.DHTIndexStats()
		r.CrawlRates = append(r.CrawlRates, float64(st.SampleQueries+st.NodeQueries)/r.Elapsed.Seconds())
		r.Offered = append(r.Offered, st.Offered)
		r.NoPeers = append(r.NoPeers, st.NoPeers)
		r.FetchFailed = append(r.FetchFailed, st.FetchFailed)
		c := sn.DHTCrawled()
		r.Crawled = append(r.Crawled, len(c))
		for _, a := range c {
			asked[a]++
		}
	}
	multi := 0
	for _, n := range asked {
		if n > 1 {
			multi++
		}
	}
	r.CrawledUnion = len(asked)
	if len(asked) > 0 {
		r.Overlap = float64(multi) / float64(len(asked))
	}
}

// search looks each indexed torrent up from the leaf by two words of its
// name (its unique word and a common one), timing the first hit that is
// the torrent, from the DHT, with its name and size; a wrong name or size
// counts as unverified.
func (s *DHTSim) search(ctx context.Context, r *DHTSimReport, indexed []*simTorrent) error {
	if err := s.waitLeafLinked(ctx); err != nil {
		return err
	}
	mrand.Shuffle(len(indexed), func(i, j int) { indexed[i], indexed[j] = indexed[j], indexed[i] })
	if s.cfg.Queries > 0 {
		indexed = indexed[:min(len(indexed), s.cfg.Queries)]
	}
	var firsts []time.Duration
	// One search per searchGap: a supernode allows a leaf 2 queries/s.
	const searchGap = 600 * time.Millisecond
	next := time.Now()
	for _, tor := range indexed {
		time.Sleep(time.Until(next))
		next = time.Now().Add(searchGap)
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		start := time.Now()
		hits, err := s.leaf.Search(qctx, strings.Fields(tor.name)[0]+" "+tor.word)
		if err != nil {
			cancel()
			return fmt.Errorf("dhtsim: search: %w", err)
		}
		found := false
		for h := range hits {
			if [20]byte(h.InfoHash) != tor.ih || !h.DHT {
				continue
			}
			if h.Name != tor.name || h.Size != tor.size {
				r.Unverified++
			}
			if !found {
				found = true
				firsts = append(firsts, time.Since(start))
				cancel()
			}
		}
		cancel()
		r.Queries++
		if found {
			r.Found++
			continue
		}
		r.Missed = append(r.Missed, tor.by+": "+tor.name)
		time.Sleep(searchGap)
		if s.searchOnce(ctx, tor, 10*time.Second) {
			r.FoundRetry++
		}
	}
	slices.Sort(firsts)
	r.FirstP50, r.FirstP95 = bench.Percentile(firsts, 0.5), bench.Percentile(firsts, 0.95)
	return nil
}

// searchOnce reports whether one search finds tor as a DHT hit.
func (s *DHTSim) searchOnce(ctx context.Context, tor *simTorrent, timeout time.Duration) bool {
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	hits, err := s.leaf.Search(qctx, strings.Fields(tor.name)[0]+" "+tor.word)
	if err != nil {
		return false
	}
	found := false
	for h := range hits {
		if [20]byte(h.InfoHash) == tor.ih && h.DHT {
			found = true
			cancel()
		}
	}
	return found
}

// waitLeafLinked waits until the searching leaf is linked to a supernode.
func (s *DHTSim) waitLeafLinked(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for len(s.leaf.Snapshot().Net.Supernodes) == 0 {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return errors.New("dhtsim: the searching leaf found no supernode within 90 s")
		}
		time.Sleep(500 * time.Millisecond)
	}
	return nil
}
