package enginebench

import (
	"strings"
	"testing"
	"time"
)

// TestSwarmRowsPrint prints the two rows from made-up runs: the swarm's
// median time against its lower bound, and the free-rider's rate against
// the reciprocators' median.
func TestSwarmRowsPrint(t *testing.T) {
	var sr SwarmRows
	var out strings.Builder
	sr.Print(&out)
	if out.Len() != 0 {
		t.Fatalf("rows not run printed %q", out.String())
	}
	swarm, free := swarmSpecs(2<<20, 2<<20)
	for _, secs := range []float64{2, 4, 3} {
		sr.swarm = append(sr.swarm, swarmRun{swarm, SwarmResult{All: time.Duration(secs * float64(time.Second))}})
	}
	rates := []float64{2e6, 2e6, 1e6, 3e6, 2e6, 2e6, 2e6, 2e6, 0.5e6} // the free-rider last
	sr.free = append(sr.free, swarmRun{free, SwarmResult{ContentionRate: rates, Uploaded: make([]int64, 9)}})
	sr.Print(&out)
	for _, want := range []string{
		"(c) swarm, 1 seed (8 MB/s up) + 16 leechers (4 MB/s up each), 2 MiB: all done in 3.0 s (runs 2.0, 4.0, 3.0)",
		// 16 × 2 MiB ÷ (8 + 16 × 4) MB/s = 0.466 s; 3 s is 6.44× that.
		"lower bound 0.5 s; 6.44× the bound (target ≤1.25× MISSED)",
		"(d) free-rider among 8 reciprocators (seed 4 MB/s, peers 2 MB/s up), 2 MiB",
		"free-rider 0.50 MB/s, reciprocators' median 2.00 MB/s, ratio 0.25 (runs 0.25)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the rows lack %q:\n%s", want, out.String())
		}
	}
}
