package enginebench

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/shoalp2p/shoal/internal/bench"
)

// SwarmRows are the in-process rows of `make bench`'s table (they
// implement internal/bench's Swarms, which cannot run engines itself):
// (c) one seed and 16 leechers under upload caps against the lower bound,
// and (d) a free-rider among reciprocating leechers. app's TestBenchTable
// passes them to bench.Table.
type SwarmRows struct {
	swarm, free []swarmRun
}

// swarmRun is one in-process swarm run's figures.
type swarmRun struct {
	spec SwarmSpec
	res  SwarmResult
}

// swarmSpecs are (c): one seed at 8 MB/s and 16 leechers at 4 MB/s upload;
// (d): one seed at 4 MB/s, 8 reciprocating leechers at 2 MB/s and one
// free-rider (same engine and cap, but it never unchokes anyone).
func swarmSpecs(swarmSize, freeSize int) (swarm, free SwarmSpec) {
	swarm = SwarmSpec{Size: swarmSize, Leechers: 16, SeedUp: 8e6, LeecherUp: 4e6}
	free = SwarmSpec{Size: freeSize, Leechers: 9, FreeRiders: 1, SeedUp: 4e6, LeecherUp: 2e6}
	// Time enough for the seed alone to serve everyone, and then some.
	for _, s := range []*SwarmSpec{&swarm, &free} {
		s.Timeout = 2*time.Duration(float64(s.Leechers*s.Size)/float64(s.SeedUp)*float64(time.Second)) + time.Minute
	}
	return swarm, free
}

// Run measures (c) and (d) runs times, alternating, on swarmSize and
// freeSize bytes of content.
func (sr *SwarmRows) Run(t *testing.T, swarmSize, freeSize, runs int) {
	swarm, free := swarmSpecs(swarmSize, freeSize)
	for r := 0; r < runs; r++ {
		sr.swarm = append(sr.swarm, swarmRun{swarm, RunSwarm(t, swarm)})
		sr.free = append(sr.free, swarmRun{free, RunSwarm(t, free)})
	}
}

// Print writes a line for each of (c) and (d) that was run.
func (sr *SwarmRows) Print(w io.Writer) {
	if len(sr.swarm) > 0 {
		s := sr.swarm[0].spec
		var all []float64
		for _, r := range sr.swarm {
			all = append(all, r.res.All.Seconds())
		}
		bound := s.LowerBound().Seconds()
		fmt.Fprintf(w, "(c) swarm, 1 seed (%.0f MB/s up) + %d leechers (%.0f MB/s up each), %d MiB: all done in %.1f s (runs %s); lower bound %.1f s; %.2f× the bound (target ≤1.25× %s)\n",
			float64(s.SeedUp)/1e6, s.Leechers, float64(s.LeecherUp)/1e6, s.Size>>20, bench.Median(all), bench.Join(all, "%.1f"),
			bound, bench.Median(all)/bound, bench.Mark(bench.Median(all)/bound <= 1.25))
	}
	if len(sr.free) > 0 {
		s := sr.free[0].spec
		var fr, rec, ratio []float64
		var up, filtered int64
		for _, r := range sr.free {
			f, m, u := r.res.FreeRider(s)
			fr, rec, ratio = append(fr, f/1e6), append(rec, m/1e6), append(ratio, f/m)
			up, filtered = max(up, u), max(filtered, r.res.FilteredPieceBytes)
		}
		fmt.Fprintf(w, "(d) free-rider among %d reciprocators (seed %.0f MB/s, peers %.0f MB/s up), %d MiB: download rates while peers compete: free-rider %.2f MB/s, reciprocators' median %.2f MB/s, ratio %.2f (runs %s); free-rider uploaded %d B (engine), %d B through its filter\n",
			s.Leechers-s.FreeRiders, float64(s.SeedUp)/1e6, float64(s.LeecherUp)/1e6, s.Size>>20,
			bench.Median(fr), bench.Median(rec), bench.Median(ratio), bench.Join(ratio, "%.2f"), up, filtered)
	}
}
