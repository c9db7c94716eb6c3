package bench

import (
	"fmt"
	"os"
	"testing"
)

// TransmissionSeeds (app's TestBenchTransmissionSeeds) measures what
// Transmission's upload allows: one Transmission seeder, downloaded from
// in turn by Shoal and by aria2 (found through a loopback tracker).
// Transmission never dials a loopback peer, so the table's Transmission →
// Transmission row reads n/a; this puts the Transmission → Shoal row
// beside another client fed by the same seeder. SHOAL_BENCH=transmission
// runs it (BENCH_SIZE, default 256MiB; BENCH_RUNS pairs, default 2). Wall
// time from leecher start includes waiting for Transmission's choker,
// which unchokes every 10 s.
func TransmissionSeeds(t *testing.T, o Options) {
	if os.Getenv(ModeEnv) != "transmission" {
		t.Skip("set SHOAL_BENCH=transmission")
	}
	cfg := benchConfig{size: o.envSize(t, "BENCH_SIZE", 256<<20), runs: Runs(t, 2)}
	b := newBench(t, o, cfg)
	shoalLeech := func(seedAddr, _ string) (benchSample, error) { return b.shoalLeech(seedAddr) }
	aria2Leech := func(_, torrent string) (benchSample, error) { return b.aria2Leech(torrent) }
	var shoalMBs, aria2MBs []float64
	for range cfg.runs {
		for _, c := range []struct {
			name  string
			leech func(seedAddr, torrent string) (benchSample, error)
			mbs   *[]float64
		}{{"Shoal", shoalLeech, &shoalMBs}, {"aria2", aria2Leech, &aria2MBs}} {
			Settle()
			s, err := fromFreshTransmission(b, c.leech)
			if err != nil {
				t.Fatalf("Transmission → %s: %v", c.name, err)
			}
			*c.mbs = append(*c.mbs, float64(cfg.size)/1e6/s.secs)
		}
	}
	fmt.Printf("a fresh Transmission seeder each run, %d MiB, MB/s from leecher start to verified copy:\n", cfg.size>>20)
	fmt.Printf("Transmission → Shoal  median %.1f (runs %s)\n", Median(shoalMBs), Join(shoalMBs, "%.1f"))
	fmt.Printf("Transmission → aria2  median %.1f (runs %s)\n", Median(aria2MBs), Join(aria2MBs, "%.1f"))
}

// fromFreshTransmission runs leech against a fresh Transmission seeder
// and tracker, with the seeder's address and the torrent announcing there.
// A fresh seeder each time: one that had served a leecher on 127.0.0.1
// never served aria2 on the same address afterwards. A fresh tracker too:
// it would still list the seeders stopped before.
func fromFreshTransmission(b *bench, leech func(seedAddr, torrent string) (benchSample, error)) (benchSample, error) {
	ts, err := b.transmissionSeed()
	if err != nil {
		return benchSample{}, err
	}
	defer ts.stop()
	return leech(ts.seeder.PeerAddr, ts.torrent)
}
