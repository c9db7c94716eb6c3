package swarm

import (
	"net/netip"
	"testing"

	"github.com/shoalp2p/shoal/engine/wire"
)

// TestPEXPunchFirst: a peer that a relay's PEX names as a ut_holepunch
// peer it did not dial is kept off direct uTP (candidate.punchFirst); one
// the relay dialled, or one without ut_holepunch, is dialled as usual.
func TestPEXPunchFirst(t *testing.T) {
	s := &Swarm{cands: map[string]*candidate{}}
	for _, c := range []struct {
		addr string
		f    wire.PEXFlags
		want bool
	}{
		{"203.0.113.15:42041", wire.PEXHolepunch | wire.PEXUTP, true},
		{"203.0.113.16:42041", wire.PEXHolepunch | wire.PEXReachable, false},
		{"203.0.113.17:42041", wire.PEXUTP, false},
		{"203.0.113.18:42041", 0, false},
	} {
		s.pexCandidate(netip.MustParseAddrPort(c.addr), c.f)
		got := s.cands[c.addr]
		if got == nil || got.punchFirst != c.want {
			t.Errorf("PEX flags %#x: candidate %+v, want punchFirst %v", c.f, got, c.want)
		}
	}
}
