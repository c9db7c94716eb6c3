package engine_test

import (
	"testing"
	"time"

	"github.com/shoalp2p/shoal/engine/enginebench"
)

// TestFreeRiderGetsLess runs a swarm under upload caps in which one leecher
// never uploads (peers reach it only through a filter that drops its
// unchoke and allowed-fast messages) while the others reciprocate. Tit-for-
// tat must give the free-rider a lower download rate, while peers compete
// (see SwarmResult.ContentionRate), than the median
// reciprocator. Only the comparison is asserted, never a speed.
func TestFreeRiderGetsLess(t *testing.T) {
	if testing.Short() {
		t.Skip("a swarm run of half a minute or more")
	}
	// Eight reciprocators each see seven others and the free-rider: more
	// interested peers than the four regular slots plus the optimistic one,
	// so choking decides; 16 MiB at these caps lasts several 10 s rounds.
	spec := enginebench.SwarmSpec{Size: 16 << 20, Leechers: 9, FreeRiders: 1,
		SeedUp: 2e6, LeecherUp: 1e6, Timeout: 4 * time.Minute}
	res := enginebench.RunSwarm(t, spec)
	fr, recip, frUp := res.FreeRider(spec)
	t.Logf("free-rider %.2f MB/s (uploaded %d bytes, %d through its filter) vs reciprocators' median %.2f MB/s: ratio %.2f",
		fr/1e6, frUp, res.FilteredPieceBytes, recip/1e6, fr/recip)
	if res.FilteredPieceBytes != 0 || frUp != 0 {
		t.Fatalf("the free-rider uploaded %d bytes (%d through its filter): the experiment is void", frUp, res.FilteredPieceBytes)
	}
	if fr >= recip {
		t.Errorf("free-rider downloaded at %.2f MB/s, not less than the reciprocators' median %.2f MB/s", fr/1e6, recip/1e6)
	}
}
