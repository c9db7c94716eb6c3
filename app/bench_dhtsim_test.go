package main

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/enginebench"
	benchrun "github.com/shoalp2p/shoal/internal/bench"
)

// TestBenchDHTSim is the DHT index simulation of `make bench`
// (SHOAL_BENCH=1): a loopback DHT of 200 Shoal DHT nodes and 6 Shoal
// supernodes indexing it (plus aria2 and python3-libtorrent joining as
// seeders, a Shoal seeder and a searching leaf), 2,000 torrents announced
// and 100 of them seeded for real (30 by aria2, 30 by libtorrent, 40 by
// Shoal). It prints the share of seeded torrents indexed within 10
// minutes, recall and first-hit times of searches over the indexed names,
// each supernode's crawl rate against its budget (the default 50/s), how
// the keyspace split shares the crawled nodes out, and how many entries
// lack verified metadata (must be 0). Sizes: DHTSIM_NODES, DHTSIM_SUPERNODES,
// DHTSIM_TORRENTS, DHTSIM_SEEDED. Nothing here asserts a speed; the run
// fails only when an entry is indexed without verified metadata.
func TestBenchDHTSim(t *testing.T) {
	if os.Getenv("SHOAL_BENCH") == "" {
		t.Skip("set SHOAL_BENCH=1 (make bench)")
	}
	env := func(name string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
			return v
		}
		return def
	}
	seeded := env("DHTSIM_SEEDED", 100)
	cfg := enginebench.DHTSimConfig{
		DHTNodes: env("DHTSIM_NODES", 200), Supernodes: env("DHTSIM_SUPERNODES", 6),
		Torrents: env("DHTSIM_TORRENTS", 2000), Seeded: seeded,
		Aria2: seeded * 3 / 10, Libtorrent: seeded * 3 / 10, CrawlRate: 50,
		Window: 10 * time.Minute, Logf: t.Logf,
	}
	t.Logf("load average at start: %s", benchrun.LoadAvg())
	sim, err := enginebench.StartDHTSim(t, cfg)
	needPeer(t, err)
	rep, err := sim.Measure(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("load average at end: %s\n%s", benchrun.LoadAvg(), rep)
	if rep.Unverified > 0 {
		t.Errorf("%d entries indexed without verified metadata", rep.Unverified)
	}
}
