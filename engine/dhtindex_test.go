package engine_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine"
	"github.com/shoalp2p/shoal/engine/enginetest"
	"github.com/shoalp2p/shoal/internal/peerclients"
)

// TestDHTIndexAria2: aria2 announces a trackerless torrent into a loopback
// DHT of a Shoal supernode and leaf; the supernode indexes it from its
// metadata, and the leaf's search finds it as a DHT hit.
func TestDHTIndexAria2(t *testing.T) {
	needBins(t, "aria2c", "mktorrent")
	snCfg := enginetest.Config(t)
	snCfg.Supernode = true
	sn := enginetest.Start(t, snCfg)
	leafCfg := enginetest.Config(t, sn.DHTAddr())
	leafCfg.Leaf = true
	leaf := enginetest.Start(t, leafCfg)

	seedDir := t.TempDir()
	name := "Pangolin Orchestra Rehearsal.bin"
	src := enginetest.RandomFile(t, seedDir, name, 300<<10)
	torrent, ih := mktorrent(t, src)
	aria, err := peerclients.StartAria2DHTSeeding(t, torrent, seedDir, leaf.DHTAddr())
	need(t, err)

	start := time.Now()
	enginetest.WaitFor(t, "the supernode to index aria2's torrent", 90*time.Second, func() bool {
		st, _ := sn.DHTIndexStats()
		return st.Indexed >= 1
	})
	if os.Getenv("SHOAL_DEBUG_ARIA2") != "" {
		t.Logf("sn %s leaf %s; aria2 log:\n%s", sn.DHTAddr(), leaf.DHTAddr(), aria.LogTail(200000))
	}
	st, _ := sn.DHTIndexStats()
	t.Logf("indexed after %v: %+v", time.Since(start).Round(time.Millisecond), st)
	var hit engine.Hit
	enginetest.WaitFor(t, "the leaf's search to find it", 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		hits, err := leaf.Search(ctx, "pangolin rehearsal")
		if err != nil {
			return false
		}
		for h := range hits {
			if h.InfoHash == ih {
				hit = h
			}
		}
		return hit.DHT
	})
	if hit.Name != name || hit.Size != 300<<10 || hit.Swarm < 1 || hit.Origin() != "dht" {
		t.Fatalf("hit %+v", hit)
	}
	if st, on := leaf.DHTIndexStats(); on || st.SampleQueries != 0 {
		t.Fatalf("the leaf indexes the DHT: %+v", st)
	}
}
