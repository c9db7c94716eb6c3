package engine_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/enginebench"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestDHTSimSmall is the small DHT-index simulation (the full one is
// app's TestBenchDHTSim under make bench): 30 Shoal DHT nodes, 4 Shoal
// supernodes indexing the DHT, 200 torrents announced, 20 of them seeded
// for real (aria2, python3-libtorrent and a Shoal engine); the DHT nodes
// answer a BEP 51 interval of one minute (engines answer five), so that
// the crawl walks their stores within the test's time. Every seeded
// torrent but one must be indexed within 5 minutes (the run ends as soon
// as all are: 43 s under -race on a loaded 2-core machine), searches from a leaf find
// them all as DHT hits with their names and sizes, no announce-only
// infohash is indexed, every supernode's crawl stays within its budget,
// and the keyspace split keeps most crawled nodes to one supernode.
func TestDHTSimSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("the DHT index simulation takes a minute or two")
	}
	cfg := enginebench.DHTSimConfig{DHTNodes: 30, Supernodes: 4, Torrents: 200, Seeded: 20,
		Aria2: 6, Libtorrent: 6, CrawlRate: 20, SampleInterval: time.Minute, Window: 5 * time.Minute, Logf: t.Logf}
	sim, err := enginebench.StartDHTSim(t, cfg)
	if errors.Is(err, peerclients.ErrNotInstalled) && os.Getenv("SHOAL_REQUIRE_PEERS") != "1" {
		t.Skipf("%v; set SHOAL_REQUIRE_PEERS=1 to fail instead", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	rep, err := sim.Measure(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", rep)
	if rep.IndexedShare() < 0.95 {
		t.Errorf("indexed %d of %d seeded torrents within %v, want at least 95%%", rep.Indexed, rep.Seeded, cfg.Window)
	}
	if rep.Unverified > 0 {
		t.Errorf("%d entries indexed without verified metadata", rep.Unverified)
	}
	if rep.Recall() < 0.99 {
		t.Errorf("recall %.3f over indexed names, want at least 0.99", rep.Recall())
	}
	for i, r := range rep.CrawlRates {
		if r > float64(cfg.CrawlRate)*1.05 {
			t.Errorf("supernode %d crawled at %.2f queries/s, over its budget of %d", i, r, cfg.CrawlRate)
		}
	}
	if rep.CrawledUnion > 0 && rep.Overlap > 0.25 {
		t.Errorf("%.0f%% of crawled nodes were asked by more than one supernode: the keyspace is not shared out", 100*rep.Overlap)
	}
}
