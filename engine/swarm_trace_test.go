package engine_test

import (
	"os"
	"testing"

	"github.com/shoalp2p/shoal/engine/enginebench"
)

// TestSwarmTrace runs bench row (c) once with a per-second trace
// (SHOAL_SWARM_TRACE=1); it is a tool for finding idle upload capacity.
func TestSwarmTrace(t *testing.T) {
	if os.Getenv("SHOAL_SWARM_TRACE") == "" {
		t.Skip("set SHOAL_SWARM_TRACE=1 to run")
	}
	spec := enginebench.SwarmSpec{Size: 64 << 20, Leechers: 16, SeedUp: 8e6, LeecherUp: 4e6, Trace: os.Stdout, TraceSlots: os.Getenv("SHOAL_SWARM_TRACE") == "slots"}
	spec.Timeout = 5 * 60e9
	res := enginebench.RunSwarm(t, spec)
	t.Logf("all done in %.1f s; bound %.1f s; %.2f×", res.All.Seconds(), spec.LowerBound().Seconds(), res.All.Seconds()/spec.LowerBound().Seconds())
}
