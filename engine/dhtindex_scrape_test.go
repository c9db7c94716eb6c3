package engine_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/internal/dhttest"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestDHTIndexSeedsLeechers: a loopback DHT of a Shoal supernode and leaf
// (real DHT nodes, both answering BEP 33). Two hand-made peers on their
// own loopback IPs announce a torrent to both, one with the seed flag;
// then a python3-libtorrent seeder (on 127.0.0.1, with the seed flag)
// announces it and serves its metadata. The supernode indexes it with the
// seeds and leechers its scrape of the nodes holding the swarm estimates:
// 2 seeds (127.0.0.1, 127.0.0.71) and 1 leecher (127.0.0.72), and the
// leaf's search shows them on the hit. Before, a hit carried one swarm
// count only.
func TestDHTIndexSeedsLeechers(t *testing.T) {
	needBins(t, "mktorrent")
	snCfg := enginetest.Config(t)
	snCfg.Supernode = true
	sn := enginetest.Start(t, snCfg)
	leafCfg := enginetest.Config(t, sn.DHTAddr())
	leafCfg.Leaf = true
	leaf := enginetest.Start(t, leafCfg)

	seedDir := t.TempDir()
	name := "Echidna Den Timelapse.bin"
	src := enginetest.RandomFile(t, seedDir, name, 200<<10)
	torrent, ih := mktorrent(t, src)
	for i, seed := range []bool{true, false} {
		ip := net.IPv4(127, 0, 0, byte(71+i))
		for _, node := range []string{leaf.DHTAddr(), sn.DHTAddr()} {
			dhttest.NewPeer(t, ip, node).Announce(ih, 7000+i, seed)
		}
	}
	_, err := peerclients.StartLibtorrentDHTSeeding(t, torrent, seedDir, leaf.DHTAddr())
	need(t, err)

	var hit engine.Hit
	enginetest.WaitFor(t, "the leaf's search to show the swarm's seeds and leechers", 150*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hits, err := leaf.Search(ctx, "echidna timelapse")
		if err != nil {
			return false
		}
		for h := range hits {
			if h.InfoHash == ih {
				hit = h
			}
		}
		return hit.Scraped && hit.Seeds == 2
	})
	if hit.Name != name || !hit.DHT || hit.Leechers != 1 || hit.Swarm < 3 {
		t.Fatalf("hit %+v, want 2 seeds, 1 leecher, a swarm of at least 3", hit)
	}
	st, _ := sn.DHTIndexStats()
	t.Logf("hit: %d seeds, %d leechers, swarm %d; indexer %+v", hit.Seeds, hit.Leechers, hit.Swarm, st)
}
